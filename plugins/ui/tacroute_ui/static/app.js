// tacroute ui: the little JavaScript the pages need. Every request carries the
// CSRF token; every text from the server is inserted as text or as HTML the
// server rendered with escaping (fragments), never built from strings here.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf"]').content;
  const body = document.body;

  async function call(method, url, data, etag) {
    const headers = {"Content-Type": "application/json", "X-CSRF-Token": csrf};
    if (etag) headers["If-Match"] = etag;
    const res = await fetch(url, {method: method, headers: headers, credentials: "same-origin",
                                  body: data === undefined ? undefined : JSON.stringify(data)});
    return res;
  }

  function showStale() {
    document.getElementById("stale").hidden = false;
  }
  const reload = document.getElementById("reload");
  if (reload) reload.addEventListener("click", () => location.reload());

  function clearErrors(form) {
    form.querySelectorAll(".field-error").forEach((el) => { el.textContent = ""; });
  }
  function showErrors(form, data) {
    const fields = data.fields || {};
    let shown = false;
    for (const [name, msg] of Object.entries(fields)) {
      const el = form.querySelector(`.field-error[data-for="${CSS.escape(name)}"]`);
      if (el) { el.textContent = msg; shown = true; }
    }
    if (!shown) form.querySelector('.field-error[data-for="form"]').textContent = data.error || "error";
  }
  async function handle(res, form) {
    if (res.ok) return true;
    const data = await res.json().catch(() => ({error: res.statusText}));
    if (res.status === 409) showStale();
    showErrors(form, data);
    return false;
  }
  const enc = encodeURIComponent;

  // ---------------------------------------------------------------- rules
  if (body.dataset.page === "rules") {
    const etag = body.dataset.etag;
    const form = document.getElementById("rule-form");
    const title = document.getElementById("form-title");
    const cancel = document.getElementById("cancel-edit");
    document.querySelectorAll("tr.rule").forEach((row) => {
      const name = row.dataset.name;
      row.querySelector(".toggle").addEventListener("click", async () => {
        const op = row.dataset.enabled === "true" ? "disable" : "enable";
        const res = await call("POST", `/api/rules/${enc(name)}/${op}`, {}, etag);
        if (await handle(res, form)) location.reload();
      });
      row.querySelector(".delete").addEventListener("click", async () => {
        if (!confirm(`Delete rule ${name}?`)) return;
        const res = await call("DELETE", `/api/rules/${enc(name)}`, undefined, etag);
        if (await handle(res, form)) location.reload();
      });
      row.querySelector(".edit").addEventListener("click", () => {
        form.dataset.mode = "update";
        form.dataset.name = name;
        title.textContent = `Edit rule ${name}`;
        form.elements.name.value = name;
        form.elements.name.disabled = true;
        form.elements.priority.value = row.dataset.priority;
        form.elements.model.value = row.dataset.model;
        form.elements.provider.value = row.dataset.provider;
        form.elements.conditions_text.value = row.dataset.conditions;
        form.elements.enabled.checked = row.dataset.enabled === "true";
        cancel.hidden = false;
        clearErrors(form);
        form.scrollIntoView();
      });
    });
    cancel.addEventListener("click", () => location.reload());
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const data = {priority: form.elements.priority.value, model: form.elements.model.value,
                    provider: form.elements.provider.value, conditions_text: form.elements.conditions_text.value,
                    enabled: form.elements.enabled.checked};
      let res;
      if (form.dataset.mode === "update") {
        res = await call("PATCH", `/api/rules/${enc(form.dataset.name)}`, data, etag);
      } else {
        data.name = form.elements.name.value;
        res = await call("POST", "/api/rules", data, etag);
      }
      if (await handle(res, form)) location.reload();
    });
  }

  // ------------------------------------------------------------ try a task
  if (body.dataset.page === "try") {
    const form = document.getElementById("try-form");
    const out = document.getElementById("decision");
    let timer = null;
    let seq = 0;
    function task() {
      const e = form.elements;
      const t = {};
      if (e.priority.value.trim()) t.priority = e.priority.value.trim();
      const labels = e.labels.value.split(",").map((s) => s.trim()).filter(Boolean);
      if (labels.length) t.labels = labels;
      for (const k of ["retry_count", "hour"]) {
        const v = e[k].value.trim();
        if (v) t[k] = /^-?\d+$/.test(v) ? parseInt(v, 10) : v;
      }
      for (const k of ["user", "project"]) if (e[k].value.trim()) t[k] = e[k].value.trim();
      for (const line of e.attrs.value.split("\n")) {
        const i = line.indexOf("=");
        if (i > 0) t[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      }
      return t;
    }
    async function update() {
      const mine = ++seq;
      const res = await call("POST", "/ui/route", {task: task()});
      const html = await res.text();
      if (mine === seq) out.innerHTML = html;  // server-rendered, escaped
    }
    form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, 150); });
    update();
  }

  // ---------------------------------------------------------------- what-if
  if (body.dataset.page === "whatif") {
    const etag = body.dataset.etag;
    const form = document.getElementById("whatif-form");
    const out = document.getElementById("whatif-result");
    const save = document.getElementById("save-whatif");
    const e = form.elements;
    function fill() {
      const opt = e.rule.selectedOptions[0];
      const adding = e.op.value === "add";
      form.querySelectorAll(".add-only").forEach((el) => { el.hidden = !adding; });
      e.rule.disabled = adding;
      if (!opt || adding) return;
      e.priority.value = opt.dataset.priority;
      e.model.value = opt.dataset.model;
      e.provider.value = opt.dataset.provider;
      e.conditions_text.value = opt.dataset.conditions;
      save.disabled = true;
    }
    e.rule.addEventListener("change", fill);
    e.op.addEventListener("change", fill);
    fill();
    function edit() {
      const op = e.op.value;
      const ed = {op: op, name: op === "add" ? e.name.value : e.rule.value};
      if (op === "add" || op === "update") {
        Object.assign(ed, {priority: e.priority.value, model: e.model.value, provider: e.provider.value,
                           conditions_text: e.conditions_text.value});
      }
      return ed;
    }
    async function readTasks() {
      const file = e.tasks.files[0];
      if (!file) return "";
      if (file.size > 8 * 1024 * 1024) throw new Error("the tasks file is larger than 8 MiB");
      return await file.text();
    }
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      const source = form.querySelector('input[name="source"]:checked').value;
      let tasks = "";
      try { tasks = source === "tasks" ? await readTasks() : ""; } catch (err) {
        form.querySelector('.field-error[data-for="tasks"]').textContent = err.message; return;
      }
      const res = await call("POST", "/ui/whatif", {edit: edit(), source: source, since: e.since.value,
                                                    tasks: tasks, etag: etag});
      out.innerHTML = await res.text();  // server-rendered, escaped
      if (res.status === 409) showStale();
      save.disabled = !res.ok;
    });
    save.addEventListener("click", async () => {
      clearErrors(form);
      const ed = edit();
      const data = Object.assign({}, ed);
      delete data.op;
      let res;
      if (ed.op === "add") res = await call("POST", "/api/rules", data, etag);
      else if (ed.op === "delete") res = await call("DELETE", `/api/rules/${enc(ed.name)}`, undefined, etag);
      else if (ed.op === "update") { delete data.name; res = await call("PATCH", `/api/rules/${enc(ed.name)}`, data, etag); }
      else res = await call("POST", `/api/rules/${enc(ed.name)}/${ed.op}`, {}, etag);
      if (await handle(res, form)) location.href = "/rules";
    });
  }
})();
