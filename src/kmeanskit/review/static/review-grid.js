// kmeanskit review, 2 of 4 (see review-state.js): the grid of tiles (a cluster, a map
// selection or the near-duplicate groups), the selection of rows in it and the side panel of
// one row (its image and the similar ones).
'use strict';

(() => {
  const K = window.kmeanskitReview;
  const { $, S, api, imgUrl, setStatus, clusterName, members, el } = K;
  const PAGE = 300; // tiles added per "Show more"
  const GROUP_TILES = 24; // tiles of a near-duplicate group shown before its "+N more"
  const GROUP_MAX = 300; // and at most, once opened

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
    K.hideSplitForm();
    K.updateClusterClasses();
    K.drawMap();
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
    K.drawMap();
  }

  function renderSelectionInfo() {
    const n = S.sel.size;
    $('selection').textContent = n ? `${n} selected` : '';
    K.updateButtons();
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
    const li = K.clusterLi(id);
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
    K.hideSplitForm();
    setGridRows([]);
    renderGridHead();
    K.updateClusterClasses();
    K.drawMap();
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

  Object.assign(K, {
    trimTiles, setGridRows, openCluster, refreshGrid, renderGridHead, renderGrid, showMore,
    updateSelection, onTileClick, onTileDblClick, selectAll, showDetail, closeDetail, showInCluster,
    enterDups, leaveDups, renderDups, onDupSlider,
  });
})();
