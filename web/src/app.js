// The shop node's live operations page: plain DOM, no framework. Data comes from the
// node's HTTP API with the same bearer token as any client (asked once, kept in this
// tab's sessionStorage, sent only in the Authorization header, never in a URL). The live
// list reads GET /events/live (server-sent events) through fetch() streaming, because
// EventSource cannot send an Authorization header.
'use strict';

(function () {
  const TOKEN_KEY = 'annal.token';
  const LIVE_ROWS = 200;        // rows kept in the live list
  const DRAW_EVERY_MS = 200;    // the live list is redrawn at most this often ...
  const DRAW_BUSY_MS = 1000;    // ... or this often while more than LIVE_ROWS arrive per draw
  const PLOT_SAMPLES = 600;     // ten minutes at one sample per second
  const KEPT_POSITIONS = 20000; // positions remembered for the gap check (tests, the badge)

  const $ = (id) => document.getElementById(id);

  // -- the token -------------------------------------------------------------------------

  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let tokenWaiters = [];
  let tokenAsked = false;

  function askToken(why) {
    if (!tokenAsked) {
      tokenAsked = true;
      $('token-why').textContent = why;
      $('main').setAttribute('inert', '');
      $('main').hidden = true;
      const dlg = $('token-dialog');
      if (!dlg.open) dlg.showModal();
      $('token-input').focus();
    }
    return new Promise((resolve) => tokenWaiters.push(resolve));
  }

  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = $('token-input').value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token-input').value = '';
    tokenAsked = false;
    $('token-dialog').close();
    $('main').removeAttribute('inert');
    $('main').hidden = false;
    const waiters = tokenWaiters;
    tokenWaiters = [];
    waiters.forEach((w) => w());
  });
  $('token-dialog').addEventListener('cancel', (ev) => ev.preventDefault()); // no way around it

  function headers(extra) {
    const h = Object.assign({}, extra || {});
    if (token) h['Authorization'] = 'Bearer ' + token;
    return h;
  }

  // GET `path` as JSON; on 401 asks for the token and tries again.
  async function api(path) {
    for (;;) {
      const res = await fetch(path, { headers: headers(), cache: 'no-store' });
      if (res.status === 401) {
        await askToken(token ? 'The token was refused: enter the node\'s token.'
                             : 'Enter the node\'s bearer token (--token). It is kept in this tab only.');
        continue;
      }
      const body = await res.json().catch(() => null);
      if (!res.ok) throw new Error((body && body.message) || ('HTTP ' + res.status));
      return body;
    }
  }

  function td(text, cls) {
    const c = document.createElement('td');
    c.textContent = text === undefined || text === null ? '' : String(text);
    if (cls) c.className = cls;
    return c;
  }

  function replaceRows(tbody, rows) {
    const frag = document.createDocumentFragment();
    rows.forEach((r) => frag.appendChild(r));
    tbody.replaceChildren(frag);
  }

  function timeOf(ts) {
    // "2024-05-01T12:00:00.000000123Z" -> "12:00:00.000"
    return typeof ts === 'string' && ts.length >= 23 ? ts.slice(11, 23) : ts;
  }

  // -- throughput plots ------------------------------------------------------------------

  const samples = { t: [], commands: [], events: [], batch: [], commit: [] };
  let lastSample = 0;
  let plots = null;

  function makePlots() {
    if (typeof uPlot === 'undefined') return null;
    const width = (el) => Math.max(320, el.clientWidth || 420);
    const rates = new uPlot({
      title: 'commands/s and events/s', width: width($('plot-rates')), height: 200,
      series: [{}, { label: 'commands/s', stroke: '#2563eb', width: 1.5 },
                   { label: 'events/s', stroke: '#16a34a', width: 1.5 }],
      axes: [{}, { size: 60 }],
    }, [[], [], []], $('plot-rates'));
    const commits = new uPlot({
      title: 'group commit: batch size and commit time (write + fsync)', width: width($('plot-commits')), height: 200,
      series: [{}, { label: 'events/commit', stroke: '#9333ea', width: 1.5, scale: 'n' },
                   { label: 'commit ms', stroke: '#dc2626', width: 1.5, scale: 'ms' }],
      axes: [{}, { scale: 'n', size: 60 }, { scale: 'ms', side: 1, size: 60 }],
    }, [[], [], []], $('plot-commits'));
    window.addEventListener('resize', () => {
      rates.setSize({ width: width($('plot-rates')), height: 200 });
      commits.setSize({ width: width($('plot-commits')), height: 200 });
    });
    return { rates, commits };
  }

  async function pollThroughput() {
    const body = await api('/stats/throughput?after=' + lastSample);
    for (const s of body.samples) {
      samples.t.push(s.t / 1000);
      samples.commands.push(s.commands_per_s);
      samples.events.push(s.events_per_s);
      samples.batch.push(s.batch_events);
      samples.commit.push(s.commit_ms);
      lastSample = s.t;
    }
    for (const k of Object.keys(samples)) {
      if (samples[k].length > PLOT_SAMPLES) samples[k].splice(0, samples[k].length - PLOT_SAMPLES);
    }
    if (!plots) plots = makePlots();
    if (plots && body.samples.length) {
      plots.rates.setData([samples.t, samples.commands, samples.events]);
      plots.commits.setData([samples.t, samples.batch, samples.commit]);
    }
  }

  // -- projections and inventory -----------------------------------------------------------

  async function pollProjections() {
    const body = await api('/projections');
    replaceRows($('projections-body'), body.projections.map((p) => {
      const tr = document.createElement('tr');
      tr.dataset.name = p.name;
      tr.append(td(p.name), td(p.status, 'status-' + p.status), td(p.position), td(p.lag),
                td(p.lag_ms === undefined ? '' : Math.round(p.lag_ms)),
                td(p.error ? (p.faulted_at ? 'at ' + p.faulted_at + ': ' : '') + p.error : ''));
      return tr;
    }));
  }

  async function pollInventory() {
    const body = await api('/inventory');
    replaceRows($('inventory-body'), body.skus.map((s) => {
      const tr = document.createElement('tr');
      tr.dataset.sku = s.sku;
      tr.append(td(s.sku), td(s.name), td(s.on_hand), td(s.reserved), td(s.available));
      return tr;
    }));
  }

  async function pollHead() {
    const body = await api('/health');
    $('head').textContent = 'journal at ' + body.position;
  }

  // -- live events (server-sent events over fetch) ---------------------------------------

  const live = {
    lastId: null,       // the last position seen: the stream resumes after it
    received: [],       // positions received, in order (bounded)
    duplicates: 0,      // positions received twice (should stay 0)
    connects: 0,        // successful (re)connections
    markers: [],        // skipped / reset markers
    total: 0,
  };
  window.annalPage = { live }; // read by the browser tests
  let pending = [];     // frames received, not drawn yet (drawn once per animation frame)
  let drawScheduled = false;

  function setConnected(on) {
    const b = $('conn');
    b.textContent = on ? 'live' : 'reconnecting…';
    b.className = 'badge ' + (on ? 'on' : 'off');
    b.dataset.state = on ? 'live' : 'reconnecting';
  }

  function handleFrame(frame) {
    let id = null;
    let event = 'message';
    let data = '';
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) continue; // keep-alive comment
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data += (data ? '\n' : '') + value;
    }
    if (id !== null && id !== '') live.lastId = Number(id);
    if (!data) return;
    const body = JSON.parse(data);
    if (event === 'message') {
      const last = live.received.length ? live.received[live.received.length - 1] : 0;
      if (body.position <= last) live.duplicates++;
      live.received.push(body.position);
      // Trimmed in chunks: one splice per event would cost O(n) each at thousands a second.
      if (live.received.length > KEPT_POSITIONS + 5000) live.received.splice(0, live.received.length - KEPT_POSITIONS);
      live.total++;
    } else {
      live.markers.push({ event, body });
    }
    pending.push({ event, body });
    if (pending.length > 4 * LIVE_ROWS) pending.splice(0, pending.length - LIVE_ROWS);
    if (!drawScheduled) {
      drawScheduled = true;
      // Nobody reads thousands of rows a second: under a flood the list (which would be
      // replaced whole at every draw) is redrawn once a second; layout was most of the cost.
      const every = lastDrawCount > LIVE_ROWS ? DRAW_BUSY_MS : DRAW_EVERY_MS;
      const wait = Math.max(0, every - (performance.now() - lastDraw));
      setTimeout(() => requestAnimationFrame(drawLive), wait);
    }
  }

  // At most LIVE_ROWS rows, newest first, redrawn at most every DRAW_EVERY_MS: thousands
  // of events a second cost a few draws a second.
  let lastDraw = 0;
  let lastDrawCount = 0;
  function drawLive() {
    drawScheduled = false;
    lastDraw = performance.now();
    lastDrawCount = pending.length;
    const tbody = $('live-body');
    const frag = document.createDocumentFragment();
    for (let i = pending.length - 1; i >= Math.max(0, pending.length - LIVE_ROWS); i--) {
      const { event, body } = pending[i];
      const tr = document.createElement('tr');
      if (event === 'message') {
        tr.dataset.position = body.position;
        const a = document.createElement('a');
        a.className = 'stream';
        a.textContent = body.stream; // a click opens its trail (one listener on the table)
        const streamCell = document.createElement('td');
        streamCell.appendChild(a);
        tr.append(td(body.position), td(timeOf(body.timestamp)), streamCell, td(body.type), td(body.version));
      } else {
        tr.className = 'marker';
        const what = event === 'skipped'
          ? 'skipped events ' + body.from + '–' + body.to + ' (this page fell too far behind)'
          : 'the journal was replaced: continuing at ' + body.position;
        const c = td(what);
        c.colSpan = 5;
        tr.appendChild(c);
      }
      frag.appendChild(tr);
    }
    pending = [];
    tbody.insertBefore(frag, tbody.firstChild);
    while (tbody.rows.length > LIVE_ROWS) tbody.deleteRow(tbody.rows.length - 1);
    $('live-count').textContent = '(' + live.total + ' received)';
  }

  async function streamOnce() {
    const h = headers({ Accept: 'text/event-stream' });
    if (live.lastId !== null) h['Last-Event-ID'] = String(live.lastId);
    const res = await fetch('/events/live', { headers: h, cache: 'no-store' });
    if (res.status === 401) {
      await askToken(token ? 'The token was refused: enter the node\'s token.'
                           : 'Enter the node\'s bearer token (--token). It is kept in this tab only.');
      return;
    }
    if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
    live.connects++;
    setConnected(true);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      // One pass over the chunk (slicing the rest after every frame would copy it again
      // for each of its hundreds of frames).
      let start = 0;
      let end;
      while ((end = buf.indexOf('\n\n', start)) >= 0) {
        handleFrame(buf.slice(start, end));
        start = end + 2;
      }
      buf = buf.slice(start);
    }
  }

  async function streamLoop() {
    let backoff = 250;
    for (;;) {
      const started = Date.now();
      try {
        await streamOnce();
      } catch (e) { /* the node is away: retry below */ }
      setConnected(false);
      if (Date.now() - started > 5000) backoff = 250;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 2000);
    }
  }

  // -- audit trail with the state at each version ------------------------------------------

  let audit = { stream: '', events: [] };

  async function showAudit(stream) {
    stream = stream.trim();
    if (!stream) return;
    $('audit-stream').value = stream;
    $('audit-status').textContent = 'loading…';
    try {
      const events = [];
      let from = 1;
      for (let page = 0; page < 50; page++) { // at most 50,000 events
        const body = await api('/streams/' + encodeURIComponent(stream) + '/events?from=' + from + '&limit=1000');
        events.push(...body.events);
        if (body.events.length < 1000) break;
        from = body.events[body.events.length - 1].version + 1;
      }
      audit = { stream, events };
      replaceRows($('audit-body'), events.map((e) => {
        const tr = document.createElement('tr');
        tr.dataset.version = e.version;
        tr.append(td(e.version), td(e.position), td(e.type), td(e.timestamp),
                  td(JSON.stringify(e.metadata), 'json'), td(JSON.stringify(e.data), 'json'));
        return tr;
      }));
      const slider = $('audit-slider');
      slider.max = String(Math.max(1, events.length ? events[events.length - 1].version : 1));
      slider.value = slider.max;
      $('audit-view').hidden = false;
      $('audit-status').textContent = events.length + ' events';
      await showState(Number(slider.value));
    } catch (e) {
      $('audit-status').textContent = String(e.message || e);
      $('audit-view').hidden = true;
    }
  }

  // The aggregate's state after its first `version` events: the temporal query.
  let stateRequest = 0;
  async function showState(version) {
    const ticket = ++stateRequest;
    $('audit-version').textContent = String(version);
    // The events after this version are dimmed: the state shown has not seen them.
    for (const tr of $('audit-body').rows) tr.classList.toggle('later', Number(tr.dataset.version) > version);
    const stream = audit.stream;
    const path = stream.startsWith('order-')
      ? '/orders/' + encodeURIComponent(stream.slice(6)) + '?at_version=' + version
      : '/streams/' + encodeURIComponent(stream) + '/state?version=' + version;
    try {
      const body = await api(path);
      if (ticket !== stateRequest) return; // the slider moved on meanwhile
      const state = stream.startsWith('order-') ? body : body.state;
      $('audit-state').textContent = JSON.stringify(state, null, 2);
      $('audit-state').dataset.version = String(version);
      $('audit-state').dataset.status = state && state.status ? state.status : '';
    } catch (e) {
      if (ticket === stateRequest) $('audit-state').textContent = String(e.message || e);
    }
  }

  $('live-body').addEventListener('click', (ev) => {
    const a = ev.target.closest('a.stream');
    if (a) showAudit(a.textContent);
  });
  $('audit-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    showAudit($('audit-stream').value);
  });
  $('audit-slider').addEventListener('input', (ev) => showState(Number(ev.target.value)));

  // -- polling --------------------------------------------------------------------------

  function every(ms, fn) {
    const run = async () => {
      try { await fn(); } catch (e) { /* shown as stale data; the next round retries */ }
      setTimeout(run, ms);
    };
    run();
  }

  every(1000, pollThroughput);
  every(2000, pollProjections);
  every(2000, pollInventory);
  every(2000, pollHead);
  streamLoop();
})();
