// kmeanskit review: the page's script. It talks to the server only through the requests
// of docs/review-api.md, builds every element with createElement/textContent (file names
// are never parsed as HTML) and never creates more than one page of tiles at a time.
'use strict';

(() => {
  const TOKEN = new URLSearchParams(location.search).get('token') || '';
  const PAGE = 300; // tiles added per "Show more"
  const GROUP_TILES = 24; // tiles of a near-duplicate group shown before its "+N more"
  const GROUP_MAX = 300; // and at most, once opened
  const MAP_THUMBS = 300; // fewer visible points than this: draw them as thumbnails
  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- state
  const S = {
    run: null,
    n: 0,
    names: [],
    hasImages: false,
    hasFeatures: false,
    labels: null, // Int32Array: the cluster id of each row
    clusters: [], // [{id, name, size}] in the server's order (without -1)
    byId: new Map(),
    unassigned: 0,
    seq: 0,
    canUndo: false,
    canRedo: false,
    nEdits: 0,
    view: 'cluster', // 'cluster' | 'mapsel' | 'dups'
    open: null, // the cluster id shown in the grid
    selClusters: [], // selected clusters, in the order they were selected
    clusterAnchor: null,
    gridRows: [], // the rows of the grid, in order
    gridIndex: new Map(), // row -> its position in gridRows
    shown: 0, // how many of gridRows have tiles
    sel: new Set(), // selected rows
    anchor: null, // the row a Shift-click range starts from
    busy: false,
    answers: 0, // edits answered (or failed), for tests to wait on
    detailRow: null,
    dupGroups: [],
    dupShown: 0,
    dupOpen: new Set(), // groups shown whole (index in dupGroups)
    dupTotal: 0, // groups within the threshold (the server sends the largest ones only)
  };

  // ---------------------------------------------------------------- server
  async function api(path, opts) {
    const o = Object.assign({}, opts || {});
    o.headers = Object.assign({ 'X-Kmeanskit-Token': TOKEN }, o.headers || {});
    const res = await fetch(path, o);
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      body = null;
    }
    if (!res.ok) {
      const msg = body && body.error ? body.error : `${res.status} ${res.statusText}`;
      throw new Error(msg);
    }
    return body;
  }

  function imgUrl(row, full) {
    return `/img/${row}?token=${encodeURIComponent(TOKEN)}${full ? '&full=1' : ''}`;
  }

  function setStatus(text, isError) {
    const el = $('status');
    el.textContent = text;
    el.title = text;
    el.classList.toggle('error', !!isError);
  }

  function setBusy(on) {
    S.busy = on;
    document.body.dataset.busy = on ? '1' : '0';
    updateButtons();
  }

  // Sends one edit; applies its answer to the local state and re-renders what changed.
  async function edit(e, describe) {
    if (S.busy) {
      setStatus('Please wait: an edit is in progress.', true);
      return null;
    }
    setBusy(true);
    setStatus('Saving…');
    try {
      const before = S.seq;
      const r = await api('/api/edit', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(e),
      });
      if (r.seq === before + 1) applyAnswer(r);
      else await resync(); // edits from elsewhere came in between: read it all again
      setStatus(describe ? describe(r) : 'Done.');
      return r;
    } catch (err) {
      setStatus(`Error: ${err.message}`, true);
      return null;
    } finally {
      S.answers += 1;
      document.body.dataset.answers = String(S.answers);
      setBusy(false);
    }
  }

  // ---------------------------------------------------------------- helpers
  function clusterName(id) {
    if (id === -1) return 'unassigned';
    const c = S.byId.get(id);
    return c ? c.name : `cluster ${id}`;
  }

  const PALETTE = [
    '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
    '#bcbd22', '#17becf', '#aec7e8', '#ffbb78', '#98df8a', '#ff9896', '#c5b0d5', '#c49c94',
    '#f7b6d2', '#dbdb8d', '#9edae5', '#393b79',
  ];
  const colourCache = new Map();
  function colour(id) {
    if (id < 0) return '#b0b0b0';
    let c = colourCache.get(id);
    if (!c) {
      if (id < PALETTE.length) c = PALETTE[id];
      else c = `hsl(${Math.round((id * 137.508) % 360)}, 65%, ${40 + (id % 3) * 10}%)`;
      colourCache.set(id, c);
    }
    return c;
  }

  function members(id) {
    const out = [];
    const lab = S.labels;
    for (let i = 0; i < S.n; i++) if (lab[i] === id) out.push(i);
    return out;
  }

  function countUnassigned() {
    let k = 0;
    const lab = S.labels;
    for (let i = 0; i < S.n; i++) if (lab[i] === -1) k++;
    S.unassigned = k;
  }

  function setClusters(list) {
    S.clusters = list.filter((c) => c.id !== -1);
    S.byId = new Map(S.clusters.map((c) => [c.id, c]));
  }

  function exists(id) {
    return id === -1 ? S.unassigned > 0 : S.byId.has(id);
  }

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---------------------------------------------------------------- clusters list
  function listEntries() {
    const out = S.clusters.slice();
    if (S.unassigned > 0) out.push({ id: -1, name: 'unassigned', size: S.unassigned });
    return out;
  }

  function renderClusters() {
    const frag = document.createDocumentFragment();
    for (const c of listEntries()) {
      const li = el('li', c.id === -1 ? 'cluster unassigned' : 'cluster');
      li.dataset.id = String(c.id);
      const sw = el('span', 'swatch');
      sw.style.background = colour(c.id);
      li.append(sw, el('span', 'name', c.name), el('span', 'size', String(c.size)));
      li.title = `${c.name}: ${c.size}`;
      frag.append(li);
    }
    $('clusters').replaceChildren(frag);
    $('n-clusters').textContent = `${S.clusters.length} clusters, ${S.n} ${S.hasImages ? 'images' : 'rows'}`;
    updateClusterClasses();
  }

  function updateClusterClasses() {
    const sel = new Set(S.selClusters);
    for (const li of $('clusters').children) {
      const id = Number(li.dataset.id);
      li.classList.toggle('selected', sel.has(id));
      li.classList.toggle('open', S.view === 'cluster' && id === S.open);
    }
  }

  function clusterLi(id) {
    return $('clusters').querySelector(`li.cluster[data-id="${id}"]`);
  }

  function onClusterClick(ev) {
    if (ev.target.closest('#rename-input')) return;
    const li = ev.target.closest('li.cluster');
    if (!li) return;
    const id = Number(li.dataset.id);
    if (ev.ctrlKey || ev.metaKey) {
      const i = S.selClusters.indexOf(id);
      if (i >= 0) S.selClusters.splice(i, 1);
      else S.selClusters.push(id);
      S.clusterAnchor = id;
    } else if (ev.shiftKey && S.clusterAnchor !== null && exists(S.clusterAnchor)) {
      const ids = listEntries().map((c) => c.id);
      const a = ids.indexOf(S.clusterAnchor);
      const b = ids.indexOf(id);
      const step = a <= b ? 1 : -1;
      for (let i = a; i !== b + step; i += step) {
        if (!S.selClusters.includes(ids[i])) S.selClusters.push(ids[i]);
      }
    } else {
      S.selClusters = [id];
      S.clusterAnchor = id;
      openCluster(id);
      return;
    }
    updateClusterClasses();
    updateButtons();
    const ids = S.selClusters.filter((c) => c !== -1 && S.byId.has(c));
    if (ids.length >= 2) setStatus(`${ids.length} clusters selected: Merge puts them into “${clusterName(ids[0])}”.`);
  }

  function onClusterDblClick(ev) {
    const name = ev.target.closest('li.cluster .name');
    if (!name) return;
    startRename(Number(name.parentElement.dataset.id));
  }

  function renameTarget() {
    const id = S.selClusters.length ? S.selClusters[0] : S.open;
    return id !== null && id !== -1 && S.byId.has(id) ? id : null;
  }

  function startRename(id) {
    if (id === null || id === -1 || !S.byId.has(id) || S.busy) return;
    const old = $('rename-input');
    if (old) old.blur();
    const li = clusterLi(id);
    if (!li) return;
    li.scrollIntoView({ block: 'nearest' });
    const nameEl = li.querySelector('.name');
    const current = S.byId.get(id).name;
    const input = el('input');
    input.id = 'rename-input';
    input.type = 'text';
    input.maxLength = 100;
    input.value = current;
    input.setAttribute('aria-label', 'new name of the cluster');
    nameEl.classList.add('hidden');
    nameEl.after(input);
    input.focus();
    input.select();
    let done = false;
    const finish = (commit) => {
      if (done) return;
      done = true;
      const name = input.value.trim();
      input.remove();
      nameEl.classList.remove('hidden');
      if (commit && name && name !== current) {
        edit({ op: 'rename', cluster: id, name }, () => `Renamed “${current}” to “${name}”.`);
      }
    };
    input.addEventListener('keydown', (ev) => {
      ev.stopPropagation();
      if (ev.key === 'Enter') {
        ev.preventDefault();
        finish(true);
      } else if (ev.key === 'Escape') {
        ev.preventDefault();
        finish(false);
      }
    });
    input.addEventListener('blur', () => finish(true));
    input.addEventListener('click', (ev) => ev.stopPropagation());
    input.addEventListener('dblclick', (ev) => ev.stopPropagation());
  }

  function doMerge() {
    const ids = S.selClusters.filter((id) => id !== -1 && S.byId.has(id));
    if (ids.length < 2) {
      setStatus('Select two clusters or more (Ctrl-click) to merge them.', true);
      return;
    }
    const into = ids[0];
    const name = clusterName(into);
    edit({ op: 'merge', clusters: ids, into }, () => `Merged ${ids.length} clusters into “${name}”.`).then(
      (r) => {
        if (!r) return;
        S.selClusters = [into];
        S.clusterAnchor = into;
        openCluster(into);
      }
    );
  }

  function splitTarget() {
    const id = S.view === 'cluster' ? S.open : null;
    return id !== null && id !== -1 && S.byId.has(id) ? id : null;
  }

  function showSplitForm() {
    if (!S.hasFeatures || splitTarget() === null) return;
    $('split-form').classList.remove('hidden');
    const k = $('split-k');
    k.value = '';
    k.focus();
  }

  function hideSplitForm() {
    $('split-form').classList.add('hidden');
  }

  function doSplit() {
    const id = splitTarget();
    if (id === null) return;
    const raw = $('split-k').value.trim();
    let k = null;
    if (raw !== '') {
      k = Number(raw);
      if (!Number.isInteger(k) || k < 2) {
        setStatus('k must be a whole number of 2 or more (or empty: chosen automatically).', true);
        return;
      }
    }
    hideSplitForm();
    const name = clusterName(id);
    edit({ op: 'split', cluster: id, k }, (r) => {
      const made = Array.isArray(r.created) ? r.created.length : 0;
      return `Split “${name}”: ${made} new cluster${made === 1 ? '' : 's'}.`;
    }).then((r) => {
      if (!r) return;
      const keep = S.byId.has(id) ? id : Array.isArray(r.created) && r.created.length ? r.created[0] : null;
      if (keep !== null) {
        S.selClusters = [keep];
        openCluster(keep);
      }
    });
  }

  function doUndo(redo) {
    if (redo ? !S.canRedo : !S.canUndo) return;
    edit({ op: redo ? 'redo' : 'undo' }, () => (redo ? 'Redone.' : 'Undone.'));
  }

  // ---------------------------------------------------------------- move
  function renderMoveTo() {
    const sel = $('move-to');
    const keep = sel.value;
    const frag = document.createDocumentFragment();
    const ph = el('option', null, 'choose a cluster…');
    ph.value = '';
    frag.append(ph);
    for (const c of S.clusters) {
      const o = el('option', null, c.name);
      o.value = String(c.id);
      frag.append(o);
    }
    const un = el('option', null, 'unassigned');
    un.value = '-1';
    const nw = el('option', null, 'new cluster');
    nw.value = 'new';
    frag.append(un, nw);
    sel.replaceChildren(frag);
    sel.value = keep;
    if (sel.value !== keep) sel.value = '';
  }

  function doMove() {
    const v = $('move-to').value;
    if (!S.sel.size) {
      setStatus('Select images first (click, Ctrl-click, Shift-click, Ctrl+A).', true);
      return;
    }
    if (v === '') {
      setStatus('Choose where to move them in “Move to”.', true);
      $('move-to').focus();
      return;
    }
    const to = v === 'new' ? 'new' : Number(v);
    const rows = Array.from(S.sel)
      .filter((r) => to === 'new' || S.labels[r] !== to)
      .sort((a, b) => a - b);
    if (!rows.length) {
      setStatus(`Already in “${clusterName(to)}”.`);
      return;
    }
    const what = `${rows.length} ${S.hasImages ? 'image' : 'row'}${rows.length === 1 ? '' : 's'}`;
    edit({ op: 'move', rows, to }, (r) => {
      const target = to === 'new' ? (r.created !== null && r.created !== undefined ? r.created : null) : to;
      return `Moved ${what} to “${target === null ? 'a new cluster' : clusterName(target)}”.`;
    });
  }

  // ---------------------------------------------------------------- answers
  function applyState(st) {
    S.labels = Int32Array.from(st.labels);
    setClusters(st.clusters);
    countUnassigned();
    S.seq = st.seq;
    S.canUndo = !!st.can_undo;
    S.canRedo = !!st.can_redo;
    S.nEdits = st.n_edits || 0;
  }

  function applyAnswer(r) {
    for (const [row, c] of r.changed || []) S.labels[row] = c;
    if (Array.isArray(r.clusters)) setClusters(r.clusters);
    countUnassigned();
    S.seq = r.seq;
    S.canUndo = !!r.can_undo;
    S.canRedo = !!r.can_redo;
    S.nEdits = r.n_edits || 0;
    rerender();
  }

  // the state again from the server: another page (or tab) edited the same run
  async function resync() {
    applyState(await api('/api/state'));
    rerender();
  }

  // after the labels or the clusters changed: everything that shows them
  function rerender() {
    document.body.dataset.seq = String(S.seq);
    S.selClusters = S.selClusters.filter(exists);
    if (S.clusterAnchor !== null && !exists(S.clusterAnchor)) S.clusterAnchor = null;
    renderClusters();
    renderMoveTo();
    if (S.view === 'cluster') {
      if (S.open !== null && !exists(S.open)) {
        S.open = S.selClusters.length ? S.selClusters[0] : S.clusters.length ? S.clusters[0].id : null;
        S.shown = 0;
        S.sel.clear();
      }
      refreshGrid();
    } else {
      renderGridHead();
    }
    updateClusterClasses();
    if (S.detailRow !== null) $('detail-cluster').textContent = `in “${clusterName(S.labels[S.detailRow])}”`;
    drawMap();
  }

  // ---------------------------------------------------------------- grid
  const tileCache = new Map();

  function makeTile(row) {
    const t = el('div', 'tile');
    t.dataset.row = String(row);
    const name = S.names[row];
    t.title = name;
    if (S.hasImages) {
      const img = el('img');
      img.loading = 'lazy';
      img.decoding = 'async';
      img.draggable = false;
      img.alt = name;
      img.addEventListener('error', () => {
        t.classList.add('broken');
        img.replaceWith(el('div', 'text', 'image not readable'));
      });
      img.src = imgUrl(row);
      t.append(img);
      const cap = el('div', 'cap');
      cap.append(el('bdi', null, name));
      t.append(cap);
    } else {
      t.classList.add('text-tile');
      t.append(el('div', 'text', name));
    }
    return t;
  }

  // tiles are kept for reuse (no image reloaded when a grid is redrawn), up to a bound
  const TILE_CACHE = 3000;
  function trimTiles() {
    if (tileCache.size > TILE_CACHE) tileCache.clear();
  }

  function tile(row) {
    let t = tileCache.get(row);
    if (!t) {
      t = makeTile(row);
      tileCache.set(row, t);
    }
    t.classList.toggle('selected', S.sel.has(row));
    return t;
  }

  function setGridRows(rows) {
    S.gridRows = rows;
    S.gridIndex = new Map();
    rows.forEach((r, i) => S.gridIndex.set(r, i));
  }

  function openCluster(id) {
    leaveDups();
    S.view = 'cluster';
    S.open = id;
    S.sel.clear();
    S.anchor = null;
    trimTiles();
    setGridRows(members(id));
    S.shown = 0;
    renderGrid();
    $('grid-wrap').scrollTop = 0;
    hideSplitForm();
    updateClusterClasses();
    drawMap();
  }

  // after an edit: the open cluster's rows again, keeping the page count and scroll
  function refreshGrid() {
    if (S.open === null) {
      setGridRows([]);
      renderGrid();
      return;
    }
    const rows = members(S.open);
    const same = rows.length === S.gridRows.length && rows.every((r, i) => r === S.gridRows[i]);
    if (!same) {
      const keep = new Set(rows);
      for (const r of Array.from(S.sel)) if (!keep.has(r)) S.sel.delete(r);
      if (S.anchor !== null && !keep.has(S.anchor)) S.anchor = null;
      setGridRows(rows);
      renderGrid();
    } else {
      renderGridHead();
    }
  }

  function renderGridHead() {
    let title = '';
    if (S.view === 'cluster') {
      title = S.open === null ? 'No cluster open' : `${clusterName(S.open)} · ${S.gridRows.length}`;
    } else if (S.view === 'mapsel') {
      title = `Selected on the map · ${S.gridRows.length}`;
    } else {
      title = 'Near-duplicates';
    }
    $('grid-title').textContent = title;
    $('grid-title').title = title;
    renderSelectionInfo();
  }

  function renderGrid() {
    renderGridHead();
    const grid = $('grid');
    const total = S.gridRows.length;
    const want = Math.min(total, Math.max(S.shown, PAGE));
    const frag = document.createDocumentFragment();
    for (let i = 0; i < want; i++) frag.append(tile(S.gridRows[i]));
    grid.replaceChildren(frag);
    S.shown = want;
    $('more').classList.toggle('hidden', want >= total);
    $('more').textContent = `Show more (${total - want} left)`;
    const empty = $('empty');
    empty.classList.toggle('hidden', total > 0);
    empty.textContent = S.view === 'cluster' ? 'This cluster is empty.' : 'Nothing selected on the map.';
  }

  function showMore() {
    if (S.view === 'dups') {
      S.dupShown += 100;
      renderDups();
      return;
    }
    const grid = $('grid');
    const total = S.gridRows.length;
    const want = Math.min(total, S.shown + PAGE);
    const frag = document.createDocumentFragment();
    for (let i = S.shown; i < want; i++) frag.append(tile(S.gridRows[i]));
    grid.append(frag);
    S.shown = want;
    $('more').classList.toggle('hidden', want >= total);
    $('more').textContent = `Show more (${total - want} left)`;
  }

  function ensureShown(row) {
    const i = S.gridIndex.get(row);
    if (i === undefined || S.view === 'dups') return;
    while (S.shown <= i) showMore();
  }

  function visibleTiles() {
    const box = S.view === 'dups' ? $('dup-groups') : $('grid');
    return box.querySelectorAll('.tile');
  }

  function updateSelection() {
    for (const t of visibleTiles()) t.classList.toggle('selected', S.sel.has(Number(t.dataset.row)));
    renderSelectionInfo();
    drawMap();
  }

  function renderSelectionInfo() {
    const n = S.sel.size;
    $('selection').textContent = n ? `${n} selected` : '';
    updateButtons();
  }

  function onTileClick(ev) {
    const t = ev.target.closest('.tile');
    if (!t || !$('grid-wrap').contains(t)) return;
    const row = Number(t.dataset.row);
    const ctrl = ev.ctrlKey || ev.metaKey;
    if (ev.shiftKey && S.anchor !== null && S.gridIndex.has(S.anchor)) {
      const a = S.gridIndex.get(S.anchor);
      const b = S.gridIndex.get(row);
      if (!ctrl) S.sel.clear();
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      for (let i = lo; i <= hi; i++) S.sel.add(S.gridRows[i]);
    } else if (ctrl) {
      if (S.sel.has(row)) S.sel.delete(row);
      else S.sel.add(row);
      S.anchor = row;
    } else {
      S.sel.clear();
      S.sel.add(row);
      S.anchor = row;
    }
    updateSelection();
  }

  function onTileDblClick(ev) {
    const t = ev.target.closest('.tile');
    if (!t) return;
    showDetail(Number(t.dataset.row));
  }

  function selectAll() {
    for (const r of S.gridRows) S.sel.add(r);
    updateSelection();
  }

  // ---------------------------------------------------------------- details
  async function showDetail(row) {
    S.detailRow = row;
    $('detail').classList.remove('hidden');
    const nameEl = $('detail-name');
    nameEl.replaceChildren(el('bdi', null, S.names[row]));
    nameEl.title = S.names[row];
    $('detail-cluster').textContent = `in “${clusterName(S.labels[row])}”`;
    const view = $('detail-view');
    if (S.hasImages) {
      const img = el('img');
      img.alt = S.names[row];
      img.addEventListener('error', () => img.replaceWith(el('div', 'text', 'image not readable')));
      img.src = imgUrl(row, true);
      view.replaceChildren(img);
    } else {
      view.replaceChildren(el('div', 'text', S.names[row]));
    }
    const box = $('similar');
    const note = $('similar-note');
    box.replaceChildren();
    if (!S.hasFeatures) {
      note.textContent = `This run has no features: similar ${S.hasImages ? 'images' : 'rows'} are not available.`;
      note.classList.remove('hidden');
      return;
    }
    note.textContent = 'Loading…';
    note.classList.remove('hidden');
    try {
      const r = await api(`/api/similar/${row}?n=12`);
      if (S.detailRow !== row) return;
      const frag = document.createDocumentFragment();
      for (const nb of r.neighbours) {
        const t = makeTile(nb.row);
        t.title = S.names[nb.row];
        frag.append(t);
      }
      box.replaceChildren(frag);
      note.classList.add('hidden');
    } catch (err) {
      if (S.detailRow !== row) return;
      note.textContent = `Error: ${err.message}`;
    }
  }

  function closeDetail() {
    S.detailRow = null;
    $('detail').classList.add('hidden');
    $('detail-view').replaceChildren();
    $('similar').replaceChildren();
  }

  function showInCluster(row) {
    const id = S.labels[row];
    S.selClusters = [id];
    S.clusterAnchor = id;
    openCluster(id);
    S.sel.add(row);
    S.anchor = row;
    ensureShown(row);
    updateSelection();
    const t = tileCache.get(row);
    if (t) t.scrollIntoView({ block: 'center' });
    const li = clusterLi(id);
    if (li) li.scrollIntoView({ block: 'nearest' });
  }

  // ---------------------------------------------------------------- near-duplicates
  let dupRequest = 0;
  let dupTimer = 0;

  async function enterDups() {
    if (!S.hasFeatures) return;
    S.view = 'dups';
    S.sel.clear();
    S.anchor = null;
    $('dups').setAttribute('aria-pressed', 'true');
    $('grid').classList.add('hidden');
    $('grid').replaceChildren();
    $('dup-groups').classList.remove('hidden');
    $('dup-head').classList.remove('hidden');
    $('empty').classList.add('hidden');
    $('more').classList.add('hidden');
    $('dup-groups').replaceChildren();
    hideSplitForm();
    setGridRows([]);
    renderGridHead();
    updateClusterClasses();
    drawMap();
    await loadDups(null);
  }

  function leaveDups() {
    if (S.view !== 'dups') return;
    $('dups').setAttribute('aria-pressed', 'false');
    $('grid').classList.remove('hidden');
    $('dup-groups').classList.add('hidden');
    $('dup-groups').replaceChildren();
    $('dup-head').classList.add('hidden');
  }

  async function loadDups(threshold) {
    const mine = ++dupRequest;
    $('dup-count').textContent = 'Loading…';
    try {
      const q = threshold === null ? '' : `?threshold=${encodeURIComponent(threshold)}`;
      const r = await api(`/api/duplicates${q}`);
      if (mine !== dupRequest || S.view !== 'dups') return;
      const slider = $('dup-threshold');
      const lo = Number(r.min);
      const hi = Number(r.max);
      slider.min = String(lo);
      slider.max = String(hi > lo ? hi : lo + 1);
      slider.step = String(hi > lo ? (hi - lo) / 500 : 0.001);
      if (threshold === null) slider.value = String(r.default);
      $('dup-value').textContent = Number(r.threshold).toPrecision(3);
      S.dupGroups = r.groups;
      S.dupTotal = Number.isInteger(r.n_groups) ? r.n_groups : r.groups.length;
      S.dupShown = 100;
      S.dupOpen = new Set();
      renderDups();
    } catch (err) {
      if (mine !== dupRequest) return;
      $('dup-count').textContent = '';
      setStatus(`Error: ${err.message}`, true);
    }
  }

  function renderDups() {
    trimTiles();
    const groups = S.dupGroups;
    const shown = Math.min(groups.length, S.dupShown);
    const frag = document.createDocumentFragment();
    const rows = [];
    let imgs = 0;
    for (const g of groups) imgs += g.length;
    for (let i = 0; i < shown; i++) {
      const g = groups[i];
      const div = el('div', 'group');
      div.append(el('span', 'group-n', `×${g.length}`));
      const limit = Math.min(g.length, S.dupOpen.has(i) ? GROUP_MAX : GROUP_TILES);
      for (let j = 0; j < limit; j++) {
        div.append(tile(g[j]));
        rows.push(g[j]);
      }
      if (limit < g.length) {
        const more = el('button', 'group-more', `+${g.length - limit} more`);
        more.type = 'button';
        more.dataset.group = String(i);
        div.append(more);
      }
      frag.append(div);
    }
    $('dup-groups').replaceChildren(frag);
    setGridRows(rows);
    const kind = S.hasImages ? 'images' : 'rows';
    const total = Math.max(S.dupTotal || 0, groups.length);
    let text = `${total} group${total === 1 ? '' : 's'}, ${imgs} ${kind}`;
    if (total > groups.length) text = `${total} groups; the ${groups.length} largest: ${imgs} ${kind}`;
    const count = $('dup-count');
    count.textContent = text;
    count.dataset.groups = String(total);
    count.dataset.rows = String(imgs);
    $('more').classList.toggle('hidden', shown >= groups.length);
    $('more').textContent = `Show more groups (${groups.length - shown} left)`;
    const empty = $('empty');
    empty.textContent = 'No near-duplicates within this distance.';
    empty.classList.toggle('hidden', groups.length > 0);
    renderSelectionInfo();
  }

  function onDupSlider() {
    const v = Number($('dup-threshold').value);
    $('dup-value').textContent = v.toPrecision(3);
    clearTimeout(dupTimer);
    dupTimer = setTimeout(() => loadDups(v), 200);
  }

  // ---------------------------------------------------------------- buttons
  function updateButtons() {
    const idle = !S.busy;
    const merging = S.selClusters.filter((id) => id !== -1 && S.byId.has(id)).length;
    $('merge').disabled = !(idle && merging >= 2);
    $('rename').disabled = !(idle && renameTarget() !== null);
    const st = splitTarget();
    $('split').disabled = !(idle && S.hasFeatures && st !== null && S.byId.get(st).size >= 2);
    $('split-go').disabled = !idle;
    $('undo').disabled = !(idle && S.canUndo);
    $('redo').disabled = !(idle && S.canRedo);
    $('move').disabled = !(idle && S.sel.size > 0);
    $('edits').textContent = S.nEdits ? `${S.nEdits} edit${S.nEdits === 1 ? '' : 's'}` : '';
  }

  // ---------------------------------------------------------------- map
  const M = {
    xs: null,
    ys: null,
    scale: 1,
    tx: 0,
    ty: 0,
    size: 380,
    pad: 8,
    dpr: 1,
    raf: 0,
    thumbs: new Map(),
    drag: null,
    hover: -1,
  };

  function mapSetup(points) {
    const canvas = $('map');
    const n = points.length;
    M.xs = new Float32Array(n);
    M.ys = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      M.xs[i] = points[i][0];
      M.ys[i] = points[i][1];
    }
    M.dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(M.size * M.dpr);
    canvas.height = Math.round(M.size * M.dpr);
    canvas.addEventListener('wheel', onWheel, { passive: false });
    canvas.addEventListener('mousedown', onMapDown);
    canvas.addEventListener('mousemove', onMapHover);
    canvas.addEventListener('mouseleave', () => {
      M.hover = -1;
      $('tooltip').classList.add('hidden');
      drawMap();
    });
    window.addEventListener('mousemove', onMapDrag);
    window.addEventListener('mouseup', onMapUp);
    $('map-reset').addEventListener('click', () => {
      M.scale = 1;
      M.tx = 0;
      M.ty = 0;
      drawMap();
    });
  }

  const sx = (i) => (M.pad + M.xs[i] * (M.size - 2 * M.pad)) * M.scale + M.tx;
  const sy = (i) => (M.pad + (1 - M.ys[i]) * (M.size - 2 * M.pad)) * M.scale + M.ty;

  function drawMap() {
    if (!M.xs || M.raf) return;
    M.raf = requestAnimationFrame(() => {
      M.raf = 0;
      paintMap();
    });
  }

  function thumb(row) {
    let im = M.thumbs.get(row);
    if (!im) {
      im = new Image();
      im.decoding = 'async';
      im.onload = drawMap;
      im.src = imgUrl(row);
      M.thumbs.set(row, im);
    }
    return im;
  }

  function visiblePoints() {
    const out = [];
    const lim = M.size;
    for (let i = 0; i < S.n; i++) {
      const x = sx(i);
      const y = sy(i);
      if (x >= -2 && y >= -2 && x <= lim + 2 && y <= lim + 2) out.push(i);
    }
    return out;
  }

  function paintMap() {
    const canvas = $('map');
    const ctx = canvas.getContext('2d');
    ctx.setTransform(M.dpr, 0, 0, M.dpr, 0, 0);
    ctx.clearRect(0, 0, M.size, M.size);
    const vis = visiblePoints();
    const lab = S.labels;
    const open = S.view === 'cluster' ? S.open : null;
    const thumbs = S.hasImages && vis.length < MAP_THUMBS && M.scale > 1.01;
    canvas.dataset.visible = String(vis.length);
    canvas.dataset.thumbs = thumbs ? '1' : '0';
    if (thumbs) {
      const side = Math.max(16, Math.min(64, (1.2 * M.size * M.scale) / Math.sqrt(S.n + 1)));
      M.thumbSide = side;
      const h = side / 2;
      const order = open === null ? vis : vis.filter((i) => lab[i] !== open).concat(vis.filter((i) => lab[i] === open));
      for (const i of order) {
        const x = sx(i);
        const y = sy(i);
        const im = thumb(i);
        ctx.globalAlpha = open === null || lab[i] === open ? 1 : 0.55;
        if (im.complete && im.naturalWidth) ctx.drawImage(im, x - h, y - h, side, side);
        else {
          ctx.fillStyle = '#ddd';
          ctx.fillRect(x - h, y - h, side, side);
        }
        ctx.globalAlpha = 1;
        ctx.lineWidth = S.sel.has(i) ? 3 : 2;
        ctx.strokeStyle = S.sel.has(i) ? '#000' : colour(lab[i]);
        ctx.strokeRect(x - h, y - h, side, side);
      }
    } else {
      M.thumbSide = 0;
      const dot = S.n > 5000 ? 2.5 : S.n > 500 ? 3 : 4;
      let last = null;
      ctx.globalAlpha = open === null ? 0.85 : 0.45;
      for (const i of vis) {
        const c = lab[i];
        if (c === open) continue;
        if (c !== last) {
          ctx.fillStyle = colour(c);
          last = c;
        }
        ctx.fillRect(sx(i) - dot / 2, sy(i) - dot / 2, dot, dot);
      }
      ctx.globalAlpha = 1;
      if (open !== null) {
        ctx.fillStyle = colour(open);
        ctx.strokeStyle = 'rgba(0,0,0,0.6)';
        ctx.lineWidth = 0.8;
        for (const i of vis) {
          if (lab[i] !== open) continue;
          ctx.fillRect(sx(i) - 2.5, sy(i) - 2.5, 5, 5);
          ctx.strokeRect(sx(i) - 2.5, sy(i) - 2.5, 5, 5);
        }
      }
      if (S.sel.size) {
        ctx.strokeStyle = '#000';
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        for (const i of S.sel) {
          const x = sx(i);
          const y = sy(i);
          if (x < -5 || y < -5 || x > M.size + 5 || y > M.size + 5) continue;
          ctx.moveTo(x + 4, y);
          ctx.arc(x, y, 4, 0, 2 * Math.PI);
        }
        ctx.stroke();
      }
    }
    if (M.hover >= 0 && !M.drag) {
      const h = M.thumbSide ? M.thumbSide / 2 + 2 : 5;
      ctx.strokeStyle = '#d00';
      ctx.lineWidth = 2;
      ctx.strokeRect(sx(M.hover) - h, sy(M.hover) - h, 2 * h, 2 * h);
    }
    if (M.drag && M.drag.rect) {
      const d = M.drag;
      ctx.strokeStyle = '#2a5bd7';
      ctx.fillStyle = 'rgba(42, 91, 215, 0.12)';
      ctx.lineWidth = 1;
      const x = Math.min(d.x0, d.x1);
      const y = Math.min(d.y0, d.y1);
      ctx.fillRect(x, y, Math.abs(d.x1 - d.x0), Math.abs(d.y1 - d.y0));
      ctx.strokeRect(x, y, Math.abs(d.x1 - d.x0), Math.abs(d.y1 - d.y0));
    }
    canvas.dataset.drawn = String(vis.length);
  }

  function mapPos(ev) {
    const r = $('map').getBoundingClientRect();
    return [((ev.clientX - r.left) * M.size) / r.width, ((ev.clientY - r.top) * M.size) / r.height];
  }

  function onWheel(ev) {
    ev.preventDefault();
    const [x, y] = mapPos(ev);
    const f = Math.exp(-ev.deltaY * 0.0015);
    const scale = Math.min(400, Math.max(1, M.scale * f));
    const g = scale / M.scale;
    M.tx = x - (x - M.tx) * g;
    M.ty = y - (y - M.ty) * g;
    M.scale = scale;
    if (scale === 1) {
      M.tx = 0;
      M.ty = 0;
    }
    drawMap();
  }

  function onMapDown(ev) {
    if (ev.button !== 0) return;
    ev.preventDefault();
    const [x, y] = mapPos(ev);
    M.drag = { x0: x, y0: y, x1: x, y1: y, rect: ev.shiftKey, tx: M.tx, ty: M.ty, moved: false };
    if (!ev.shiftKey) $('map').classList.add('panning');
    $('tooltip').classList.add('hidden');
  }

  function onMapDrag(ev) {
    const d = M.drag;
    if (!d) return;
    const [x, y] = mapPos(ev);
    d.x1 = x;
    d.y1 = y;
    if (Math.abs(x - d.x0) + Math.abs(y - d.y0) > 3) d.moved = true;
    if (!d.rect) {
      M.tx = d.tx + (x - d.x0);
      M.ty = d.ty + (y - d.y0);
    }
    drawMap();
  }

  function onMapUp(ev) {
    const d = M.drag;
    if (!d) return;
    M.drag = null;
    $('map').classList.remove('panning');
    if (!d.moved) {
      const hit = hitTest(d.x0, d.y0);
      if (hit >= 0) showInCluster(hit);
      drawMap();
      return;
    }
    if (d.rect) {
      const x0 = Math.min(d.x0, d.x1);
      const x1 = Math.max(d.x0, d.x1);
      const y0 = Math.min(d.y0, d.y1);
      const y1 = Math.max(d.y0, d.y1);
      const rows = [];
      for (let i = 0; i < S.n; i++) {
        const x = sx(i);
        const y = sy(i);
        if (x >= x0 && x <= x1 && y >= y0 && y <= y1) rows.push(i);
      }
      selectFromMap(rows, ev.ctrlKey || ev.metaKey);
    }
    drawMap();
  }

  function selectFromMap(rows, add) {
    leaveDups();
    if (add && S.view === 'mapsel') {
      const have = new Set(S.gridRows);
      rows = S.gridRows.concat(rows.filter((r) => !have.has(r)));
    } else {
      S.sel.clear();
    }
    S.view = 'mapsel';
    trimTiles();
    setGridRows(rows);
    for (const r of rows) S.sel.add(r);
    S.anchor = null;
    S.shown = 0;
    renderGrid();
    $('grid-wrap').scrollTop = 0;
    updateClusterClasses();
    updateButtons();
    setStatus(`${rows.length} selected on the map: choose “Move to” to move them.`);
  }

  function hitTest(x, y) {
    let best = -1;
    if (M.thumbSide) {
      const h = M.thumbSide / 2;
      for (let i = S.n - 1; i >= 0; i--) {
        const dx = Math.abs(sx(i) - x);
        const dy = Math.abs(sy(i) - y);
        if (dx <= h && dy <= h) return i;
      }
      return -1;
    }
    let bestD = 36; // within 6 px
    for (let i = 0; i < S.n; i++) {
      const dx = sx(i) - x;
      const dy = sy(i) - y;
      const d = dx * dx + dy * dy;
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    return best;
  }

  let hoverRaf = 0;
  let hoverEv = null;
  function onMapHover(ev) {
    hoverEv = ev;
    if (hoverRaf || M.drag) return;
    hoverRaf = requestAnimationFrame(() => {
      hoverRaf = 0;
      const e = hoverEv;
      const tip = $('tooltip');
      if (M.drag) return;
      const [x, y] = mapPos(e);
      const i = hitTest(x, y);
      M.hover = i;
      if (i < 0) {
        if (tip.classList.contains('hidden')) return;
        tip.classList.add('hidden');
        drawMap();
        $('map').style.cursor = '';
        return;
      }
      $('map').style.cursor = 'pointer';
      tip.textContent = `${clusterName(S.labels[i])} · ${S.names[i]}`;
      tip.classList.remove('hidden');
      const canvas = $('map');
      const w = tip.offsetWidth;
      const left = x + 12 + w > M.size ? Math.max(0, x - 12 - w) : x + 12;
      const top = y + 30 > M.size ? y - 30 : y + 12;
      tip.style.left = `${canvas.offsetLeft + left}px`;
      tip.style.top = `${canvas.offsetTop + top}px`;
      drawMap();
    });
  }

  // ---------------------------------------------------------------- keys
  function isTextField(t) {
    if (!t) return false;
    if (t.tagName === 'TEXTAREA') return true;
    if (t.tagName !== 'INPUT') return false;
    return !['range', 'checkbox', 'radio', 'button'].includes(t.type);
  }

  function onKey(ev) {
    const t = ev.target;
    if (isTextField(t)) {
      if (t.id === 'split-k') {
        if (ev.key === 'Enter') {
          ev.preventDefault();
          doSplit();
        } else if (ev.key === 'Escape') {
          hideSplitForm();
        }
      }
      return;
    }
    const ctrl = ev.ctrlKey || ev.metaKey;
    const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
    if (ctrl && (key === 'z' || ev.code === 'KeyZ')) {
      ev.preventDefault();
      doUndo(ev.shiftKey);
    } else if (ctrl && (key === 'y' || ev.code === 'KeyY')) {
      ev.preventDefault();
      doUndo(true);
    } else if (ctrl && (key === 'a' || ev.code === 'KeyA')) {
      if (t.tagName === 'SELECT') return;
      ev.preventDefault();
      selectAll();
    } else if (key === 'F2') {
      ev.preventDefault();
      startRename(renameTarget());
    } else if (!ctrl && !ev.altKey && key === 'm' && t.tagName !== 'SELECT') {
      ev.preventDefault();
      $('move-to').focus();
    } else if (key === 'Enter') {
      if (t.id === 'move-to') {
        ev.preventDefault();
        doMove();
      } else if (t.tagName !== 'BUTTON' && S.sel.size) {
        ev.preventDefault();
        const row = S.anchor !== null && S.sel.has(S.anchor) ? S.anchor : S.sel.values().next().value;
        showDetail(row);
      }
    } else if (key === 'Escape') {
      if (!$('split-form').classList.contains('hidden')) hideSplitForm();
      else if (S.detailRow !== null) closeDetail();
      else if (S.sel.size) {
        S.sel.clear();
        updateSelection();
      }
    } else if ((key === 'ArrowDown' || key === 'ArrowUp') && !ctrl && t.tagName !== 'SELECT') {
      if (t.type === 'range') return;
      const ids = listEntries().map((c) => c.id);
      if (!ids.length) return;
      ev.preventDefault();
      let i = S.view === 'cluster' ? ids.indexOf(S.open) : -1;
      i = key === 'ArrowDown' ? Math.min(ids.length - 1, i + 1) : Math.max(0, i - 1);
      S.selClusters = [ids[i]];
      S.clusterAnchor = ids[i];
      openCluster(ids[i]);
      const li = clusterLi(ids[i]);
      if (li) li.scrollIntoView({ block: 'nearest' });
    }
  }

  // ---------------------------------------------------------------- start
  function wire() {
    $('clusters').addEventListener('click', onClusterClick);
    $('clusters').addEventListener('dblclick', onClusterDblClick);
    $('grid-wrap').addEventListener('click', onTileClick);
    $('grid-wrap').addEventListener('dblclick', onTileDblClick);
    $('dup-groups').addEventListener('click', (ev) => {
      const b = ev.target.closest('.group-more');
      if (!b) return;
      S.dupOpen.add(Number(b.dataset.group));
      renderDups();
    });
    $('similar').addEventListener('click', (ev) => {
      const t = ev.target.closest('.tile');
      if (t) showDetail(Number(t.dataset.row));
    });
    $('merge').addEventListener('click', doMerge);
    $('rename').addEventListener('click', () => startRename(renameTarget()));
    $('split').addEventListener('click', showSplitForm);
    $('split-go').addEventListener('click', doSplit);
    $('split-cancel').addEventListener('click', hideSplitForm);
    $('undo').addEventListener('click', () => doUndo(false));
    $('redo').addEventListener('click', () => doUndo(true));
    $('move').addEventListener('click', doMove);
    $('more').addEventListener('click', showMore);
    $('dups').addEventListener('click', () => {
      if (S.view === 'dups') {
        const id = S.open !== null && exists(S.open) ? S.open : S.clusters.length ? S.clusters[0].id : null;
        leaveDups();
        S.view = 'cluster';
        if (id !== null) openCluster(id);
      } else {
        enterDups();
      }
    });
    $('dup-threshold').addEventListener('input', onDupSlider);
    $('detail-close').addEventListener('click', closeDetail);
    $('detail-show').addEventListener('click', () => {
      if (S.detailRow !== null) showInCluster(S.detailRow);
    });
    document.addEventListener('keydown', onKey);
    // back to this tab: pick up edits made meanwhile in another one
    document.addEventListener('visibilitychange', async () => {
      if (document.visibilityState !== 'visible' || !S.labels || S.busy) return;
      try {
        const st = await api('/api/state');
        if (st.seq !== S.seq && !S.busy) {
          applyState(st);
          rerender();
          setStatus('Updated with edits made in another window.');
        }
      } catch (err) {
        setStatus(`Error: ${err.message}`, true);
      }
    });
  }

  async function init() {
    wire();
    if (!TOKEN) {
      setStatus('No token in the address: open the URL that “kmeanskit review” printed.', true);
      return;
    }
    let run;
    let st;
    try {
      [run, st] = await Promise.all([api('/api/run'), api('/api/state')]);
    } catch (err) {
      setStatus(`Error: ${err.message}`, true);
      return;
    }
    S.run = run;
    S.n = run.n;
    S.names = run.names;
    S.hasImages = !!run.has_images;
    S.hasFeatures = !!run.has_features;
    if (!S.hasImages) for (const id of ['grid', 'similar']) $(id).classList.add('texts');
    applyState(st);
    document.body.dataset.seq = String(S.seq);
    if (run.map) mapSetup(run.map);
    else {
      $('map-box').classList.add('hidden');
      $('map-none').classList.remove('hidden');
    }
    if (!S.hasFeatures) {
      const note = 'not available: this run has no features';
      for (const id of ['dups', 'split']) {
        $(id).disabled = true;
        $(id).title = `${$(id).title} (${note})`;
      }
    }
    renderClusters();
    renderMoveTo();
    const first = listEntries()[0];
    if (first) {
      S.selClusters = [first.id];
      S.clusterAnchor = first.id;
      openCluster(first.id);
    } else {
      renderGrid();
    }
    updateButtons();
    drawMap();
    const what = S.hasImages ? 'images' : 'rows';
    let msg = `${S.n} ${what} in ${S.clusters.length} clusters.`;
    if (!S.hasFeatures) msg += ' No features in this run: similar, near-duplicates and split are off.';
    setStatus(msg);
    document.body.dataset.ready = '1';
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
