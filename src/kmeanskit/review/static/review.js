// kmeanskit review, 4 of 4 (see review-state.js): the cluster list, the toolbar (merge,
// rename, split, undo, redo, move), the keys, and the start of the page.
'use strict';

(() => {
  const K = window.kmeanskitReview;
  const { $, S, TOKEN, api, setStatus, edit, clusterName, colour, exists, el, applyState, rerender } = K;
  const { openCluster, renderGrid, showMore, updateSelection, onTileClick, onTileDblClick, selectAll } = K;
  const { showDetail, closeDetail, showInCluster, enterDups, leaveDups, renderDups, onDupSlider } = K;
  const { mapSetup, drawMap } = K;

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

  Object.assign(K, {
    renderClusters, updateClusterClasses, clusterLi, hideSplitForm, renderMoveTo, updateButtons,
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
