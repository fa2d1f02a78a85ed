"""The web view's pages: Jinja templates (autoescaped), plain HTML and CSS, no script."""

from __future__ import annotations

from jinja2 import DictLoader, Environment, select_autoescape

BASE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{% block title %}lto-archive{% endblock %} · lto-archive</title>
{% if refresh %}<meta http-equiv="refresh" content="{{ refresh }}">{% endif %}
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#222}
header{background:#1d3557;color:#fff;padding:.6em 1em;display:flex;gap:1.5em;align-items:center}
header a{color:#fff;text-decoration:none} header .who{margin-left:auto}
main{padding:1em 1.5em} table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;
padding:.3em .5em;text-align:left;vertical-align:top} th{background:#f1f3f5} .ok{color:#2b8a3e} .bad{color:#c92a2a}
.note{color:#666} form.inline{display:inline} input,button,select{font:inherit} .err{background:#fff5f5;
border:1px solid #c92a2a;padding:.5em 1em} code{font-size:90%}
</style></head><body>
<header><a href="/search"><b>lto-archive</b></a><a href="/search">Search</a><a href="/cartridges">Cartridges</a>
<a href="/jobs">Jobs</a><a href="/custody">Custody</a><a href="/documents">Documents</a>
<span class="who">{% if user %}{{ user }} ({{ role }})
<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" value="{{ csrf }}">
<button id="logout">Log out</button></form>{% else %}<a href="/login" id="login-link">Log in</a>{% endif %}</span>
</header><main>{% if error %}<p class="err" id="error">{{ error }}</p>{% endif %}
{% block main %}{% endblock %}</main></body></html>"""

SEARCH = """{% extends "base" %}{% block title %}Search{% endblock %}{% block main %}
<form method="get" action="/search"><input name="q" id="q" value="{{ q }}" placeholder="path, clip, reel"
size="40"> camera <input name="camera" value="{{ camera }}" size="3"> reel <input name="reel" value="{{ reel }}"
size="4"> from <input name="since" value="{{ since }}" size="10"> to <input name="until" value="{{ until }}"
size="10"> production <input name="production" id="production" value="{{ production }}" size="14">
<button id="search">Search</button></form>
{% if hits is not none %}<p>{{ hits|length }} file(s)</p>
<table id="results"><tr><th>file</th><th>size</th><th>camera/reel</th><th>copies</th></tr>
{% for h in hits %}<tr><td><a class="file" href="/files/{{ h.path|urlencode }}">{{ h.path }}</a></td>
<td>{{ h.size }}</td><td>{{ h.camera or "" }} {{ h.reel or "" }}</td>
<td>{% for c in h.copies %}<a href="/cartridges/{{ c.destination|urlencode }}">{{ c.destination }}</a>
{% if c.verified %}<span class="ok">proven</span>{% else %}<span class="bad">not proven</span>{% endif %}
{% endfor %}</td></tr>{% endfor %}</table>{% endif %}{% endblock %}"""

FILE = """{% extends "base" %}{% block title %}{{ hit.path }}{% endblock %}{% block main %}
<h2 id="path">{{ hit.path }}</h2><p>{{ hit.size }} bytes, modified {{ hit.mtime }}</p>
<p>{% for a, h in hit.hashes.items() %}<code>{{ a }}:{{ h }}</code><br>{% endfor %}</p>
<h3>Copies</h3><table id="copies"><tr><th>where</th><th>format</th><th>position</th><th>written</th>
<th>last proof</th></tr>{% for c in hit.copies %}<tr class="copy">
<td><a href="/cartridges/{{ c.destination|urlencode }}">{{ c.destination }}</a> {{ c.location }}</td>
<td>{{ c.format }}</td><td>tape file {{ c.tape_file }}, block {{ c.block }}</td>
<td>{{ c.written }} by {{ c.operator }}</td>
<td>{% if c.verified %}<span class="ok">{{ c.verified }}</span>{% else %}<span class="bad">never proven</span>
{% endif %}</td></tr>{% endfor %}</table>
{% if may_operate %}<h3>Restore</h3><form method="post" action="/restore" id="restore-form">
<input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="path" value="{{ hit.path }}">
from <select name="barcode">{% for c in hit.copies if c.barcode %}<option>{{ c.barcode }}</option>{% endfor %}
</select> into the folder <input name="dest" id="dest" size="30" placeholder="/restore/for-editorial">
<button id="restore">Queue the restore</button></form>
{% else %}<p class="note">Log in as an operator to restore.</p>{% endif %}{% endblock %}"""

CARTRIDGES = """{% extends "base" %}{% block title %}Cartridges{% endblock %}{% block main %}
<table id="cartridges"><tr><th>cartridge</th><th>generation</th><th>files</th><th>bytes</th><th>last verified</th>
<th>location</th></tr>{% for t in tapes %}<tr><td><a href="/cartridges/{{ t.label|urlencode }}">{{ t.label }}</a></td>
<td>{{ t.generation or "" }} {{ t.format or "" }}</td><td>{{ t.files }}</td><td>{{ t.bytes }}</td>
<td>{{ t.last_verified or "never" }}</td><td>{{ t.location }}</td></tr>{% endfor %}</table>{% endblock %}"""

CARTRIDGE = """{% extends "base" %}{% block title %}{{ t.label }}{% endblock %}{% block main %}
<h2 id="label">{{ t.label }}</h2><p>{{ t.generation or "" }} {{ t.format or "" }}; {{ t.files }} files,
{{ t.bytes }} bytes; location: <span id="location">{{ t.location or "not recorded" }}</span>;
last verified: {{ t.last_verified or "never" }}</p>
{% for k, v in extra.items() %}<p><b>{{ k }}</b>: {{ v }}</p>{% endfor %}
{% if may_operate %}<form method="post" action="/cartridges/{{ t.label|urlencode }}/verify">
<input type="hidden" name="csrf" value="{{ csrf }}"><button id="queue-verify">Queue a full verify</button>
</form><form method="post" action="/cartridges/{{ t.label|urlencode }}/audit">
<input type="hidden" name="csrf" value="{{ csrf }}"><button id="queue-audit">Queue a full audit (verify and
restore drills, recorded as an audit)</button></form>{% endif %}<h3>Files</h3><table>{% for h in hits %}<tr><td><a href="/files/{{ h.path|urlencode }}">
{{ h.path }}</a></td><td>{{ h.size }}</td></tr>{% endfor %}</table>{% endblock %}"""

JOBS = """{% extends "base" %}{% block title %}Jobs{% endblock %}{% block main %}
{% if not queue %}<p class="note">This catalog has no job queue (a queue needs the shared PostgreSQL catalog).</p>
{% else %}<table id="jobs"><tr><th>job</th><th>kind</th><th>state</th><th>node</th><th>progress</th><th>asked</th></tr>
{% for j in jobs %}<tr><td><a href="/jobs/{{ j.id }}">{{ j.id }}</a></td><td>{{ j.kind }}</td><td>{{ j.state }}
{{ j.status or "" }}</td><td>{{ j.node or "" }}</td><td>{{ j.progress.bytes_done or "" }}
{% if j.progress.bytes_total %}/ {{ j.progress.bytes_total }}{% endif %}</td><td><code>{{ j.args }}</code></td></tr>
{% endfor %}</table>{% endif %}{% endblock %}"""

JOB = """{% extends "base" %}{% block title %}Job {{ j.id }}{% endblock %}{% block main %}
<h2>Job <span id="job-id">{{ j.id }}</span>: {{ j.kind }}</h2><p>state <b id="state">{{ j.state }}</b>
{{ j.status or "" }}, node {{ j.node or "-" }}, attempts {{ j.attempts }}</p>
<p>progress: {{ j.progress.bytes_done or 0 }}{% if j.progress.bytes_total %} of {{ j.progress.bytes_total }}
{% endif %} bytes {{ j.progress.path or "" }}</p><p>asked: <code id="asked">{{ j.args }}</code></p>
{% if j.documents %}<h3>Paperwork</h3><table id="documents">{% for d in j.documents %}<tr><td>{{ d.kind }}</td>
<td><a class="document" href="{{ d.url }}">{{ d.name }}</a></td></tr>{% endfor %}</table>{% endif %}
{% if j.result %}<pre>{{ result }}</pre>{% endif %}{% endblock %}"""

CUSTODY = """{% extends "base" %}{% block title %}Custody{% endblock %}{% block main %}
<p><a href="/custody.jsonl" id="download-custody">Download the log (JSON lines)</a></p>
<table id="custody"><tr><th>#</th><th>at</th><th>event</th><th>subject</th><th>hash</th></tr>
{% for e in entries %}<tr><td>{{ e.seq }}</td><td>{{ e.at }}</td><td>{{ e.event }}</td><td>{{ e.subject }}</td>
<td><code>{{ e.hash[:16] }}…</code></td></tr>{% endfor %}</table>{% endblock %}"""

DOCUMENTS = """{% extends "base" %}{% block title %}Documents{% endblock %}{% block main %}
<p class="note">Copy logs, reports, certificates and paperwork under {{ root }}</p>
<table id="documents">{% for d in docs %}<tr><td><a href="/documents/{{ d|urlencode }}">{{ d }}</a></td></tr>
{% endfor %}</table>{% endblock %}"""

LOGIN = """{% extends "base" %}{% block title %}Log in{% endblock %}{% block main %}
<form method="post" action="/login"><input type="hidden" name="csrf" value="{{ csrf }}">
<p>name <input name="name" id="name" autocomplete="username"></p><p>password <input name="password" id="password"
type="password" autocomplete="current-password"></p><button id="do-login">Log in</button></form>{% endblock %}"""

ENV = Environment(loader=DictLoader({"base": BASE, "search": SEARCH, "file": FILE, "cartridges": CARTRIDGES,
                                     "cartridge": CARTRIDGE, "jobs": JOBS, "job": JOB, "custody": CUSTODY,
                                     "documents": DOCUMENTS, "login": LOGIN}),
                  autoescape=select_autoescape(default=True, default_for_string=True))

__all__ = ["ENV"]
