// kmeanskit review, the page's script, 1 of 4 (loaded in this order, all deferred, from
// review.html.j2): review-state.js, review-grid.js, review-map.js, review.js. They share one
// object, window.kmeanskitReview (K): each file adds the functions the others call. A file
// takes what the files loaded before it define at its start; what a later file defines it
// calls through K, at run time (every call happens after all four files ran).
//
// This file: the page's state (S), the requests to the server (docs/review-api.md only),
// edits and their answers, and the small helpers. Every element is built with
// createElement/textContent (file names are never parsed as HTML) and never more than one
// page of tiles at a time.
'use strict';

(() => {
  const K = (window.kmeanskitReview = {});
  const TOKEN = new URLSearchParams(location.search).get('token') || '';
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
    K.updateButtons();
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
    K.renderClusters();
    K.renderMoveTo();
    if (S.view === 'cluster') {
      if (S.open !== null && !exists(S.open)) {
        S.open = S.selClusters.length ? S.selClusters[0] : S.clusters.length ? S.clusters[0].id : null;
        S.shown = 0;
        S.sel.clear();
      }
      K.refreshGrid();
    } else {
      K.renderGridHead();
    }
    K.updateClusterClasses();
    if (S.detailRow !== null) $('detail-cluster').textContent = `in “${clusterName(S.labels[S.detailRow])}”`;
    K.drawMap();
  }

  Object.assign(K, {
    TOKEN, $, S, api, imgUrl, setStatus, edit, clusterName, colour, members, exists, el, applyState,
    rerender,
  });
})();
