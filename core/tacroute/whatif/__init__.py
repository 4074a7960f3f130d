"""What-if: what a set of tasks would cost, and where they would go, under a config.

- :mod:`tacroute.whatif.simulate`: a JSON-lines file of tasks (``tacroute simulate``);
- :mod:`tacroute.whatif.replay`: the recorded runs of the history (``tacroute replay``);
- :mod:`tacroute.whatif.tally`: the tally, report and rendering both share;
- :mod:`tacroute.whatif.inputs`: the router, baseline and prices both start from.
"""
