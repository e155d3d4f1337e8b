// kmeanskit review, 3 of 4 (see review-state.js): the 2-d map canvas: points or
// thumbnails, zoom, pan, hover, click (show in its cluster) and Shift+drag selection.
'use strict';

(() => {
  const K = window.kmeanskitReview;
  const { $, S, imgUrl, setStatus, clusterName, colour } = K;
  const { trimTiles, setGridRows, renderGrid, showInCluster, leaveDups } = K;
  const MAP_THUMBS = 300; // fewer visible points than this: draw them as thumbnails

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
    K.updateClusterClasses();
    K.updateButtons();
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

  Object.assign(K, {
    mapSetup, drawMap,
  });
})();
