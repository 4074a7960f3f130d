#!/usr/bin/env python3
"""The seed's ``tools/openrouter-cli.py``: runs the ``tacroute-openrouter`` wrapper.

examples/config.toml names this file in its OpenRouter ``command_template``
(relative to the config's folder), so the seed's config works unchanged. It
runs the wrapper in this interpreter when tacroute-openrouter is importable,
else it hands over to the ``tacroute-openrouter`` program on PATH.
"""

import os
import sys

try:
    from tacroute_openrouter.wrapper import main
except ImportError:
    try:
        os.execvp("tacroute-openrouter", ["tacroute-openrouter", *sys.argv[1:]])
    except OSError:
        sys.stderr.write("openrouter-cli.py: tacroute-openrouter is not installed "
                         "(pip install tacroute-openrouter)\n")
        sys.exit(127)
else:
    main()
