namespace R2D2.Localization.Evaluation;

/// <summary>
/// The report's only script, inline (the page fetches nothing): a query card's picture opens full
/// size on click; the table of queries sorts by a column (click its header, again to reverse) and
/// filters by text and by outcome; the 3D view of the map draws the points, the database cameras'
/// frustums and the queries' positions on a 2D canvas and turns with the mouse (drag: turn,
/// wheel: zoom, double click: back to the start). Every part checks that its elements exist, so a
/// page without one of them runs the others.
/// </summary>
internal static class ReportScript
{
    public const string Source = """
(function () {
  'use strict';

  // A picture at its full size, over the page; a click or Escape closes it.
  var box = document.getElementById('lightbox');
  var boxImg = box ? box.querySelector('img') : null;
  function closeBox() { if (box) { box.hidden = true; boxImg.removeAttribute('src'); } }
  if (box && boxImg) {
    Array.prototype.forEach.call(document.querySelectorAll('img.thumb'), function (img) {
      img.addEventListener('click', function () { boxImg.src = img.src; boxImg.alt = img.alt; box.hidden = false; });
    });
    box.addEventListener('click', closeBox);
    document.addEventListener('keydown', function (e) { if (e.key === 'Escape') closeBox(); });
  }

  // The table of queries.
  var table = document.getElementById('qtable');
  if (table && table.tBodies.length && table.tHead) {
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var heads = table.tHead.rows[0].cells;
    var sortCol = -1, sortDir = 1;
    var key = function (row, col, numeric) {
      var c = row.cells[col], v = c.getAttribute('data-v');
      var s = v === null ? c.textContent : v;
      if (numeric) { var x = parseFloat(s); return isNaN(x) ? Infinity : x; }
      return s.toLowerCase();
    };
    var sortBy = function (col) {
      sortDir = col === sortCol ? -sortDir : 1;
      sortCol = col;
      var numeric = heads[col].getAttribute('data-type') === 'num';
      rows.sort(function (a, b) {
        var x = key(a, col, numeric), y = key(b, col, numeric);
        if (x < y) return -sortDir;
        if (x > y) return sortDir;
        return Number(a.getAttribute('data-i')) - Number(b.getAttribute('data-i'));
      });
      rows.forEach(function (r) { tbody.appendChild(r); });
      for (var i = 0; i < heads.length; i++)
        heads[i].setAttribute('aria-sort', i === col ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
    };
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener('click', function () { sortBy(col); });
    });
    var text = document.getElementById('qfilter'), show = document.getElementById('qshow'), count = document.getElementById('qcount');
    var filter = function () {
      var t = text ? text.value.trim().toLowerCase() : '', s = show ? show.value : 'all', n = 0;
      rows.forEach(function (r) {
        var ok = (!t || r.textContent.toLowerCase().indexOf(t) >= 0)
          && (s === 'all' || (r.getAttribute('data-show') || '').split(' ').indexOf(s) >= 0);
        r.hidden = !ok;
        if (ok) n++;
      });
      if (count) count.textContent = n + ' of ' + rows.length + ' queries shown';
    };
    if (text) text.addEventListener('input', filter);
    if (show) show.addEventListener('change', filter);
    filter();
  }

  // The 3D view of the map.
  var canvas = document.getElementById('view3d'), dataEl = document.getElementById('view3d-data');
  if (canvas && dataEl && canvas.getContext) {
    var ctx = canvas.getContext('2d');
    var D = JSON.parse(dataEl.textContent);
    var raw = atob(D.points), n = D.count;
    var P = new Float32Array(3 * n), colour = new Array(n);
    for (var i = 0; i < n; i++) {
      for (var k = 0; k < 3; k++) {
        var q = raw.charCodeAt(9 * i + 2 * k) | (raw.charCodeAt(9 * i + 2 * k + 1) << 8);
        if (q >= 32768) q -= 65536;
        P[3 * i + k] = q * D.scale;
      }
      colour[i] = 'rgb(' + raw.charCodeAt(9 * i + 6) + ',' + raw.charCodeAt(9 * i + 7) + ',' + raw.charCodeAt(9 * i + 8) + ')';
    }
    // A basis whose third axis is "up" (against the cameras' mean down direction).
    var u = D.up, t0 = Math.abs(u[0]) < 0.9 ? [1, 0, 0] : [0, 1, 0];
    var dot = function (a, b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; };
    var e1 = [t0[0] - dot(t0, u) * u[0], t0[1] - dot(t0, u) * u[1], t0[2] - dot(t0, u) * u[2]];
    var l1 = Math.sqrt(dot(e1, e1)); e1 = [e1[0] / l1, e1[1] / l1, e1[2] / l1];
    var e2 = [u[1] * e1[2] - u[2] * e1[1], u[2] * e1[0] - u[0] * e1[2], u[0] * e1[1] - u[1] * e1[0]];
    var local = function (v) { return [dot(v, e1), dot(v, e2), dot(v, u)]; };
    var L = new Float32Array(3 * n);
    var dists = [];
    for (var j = 0; j < n; j++) {
      var v = local([P[3 * j], P[3 * j + 1], P[3 * j + 2]]);
      L[3 * j] = v[0]; L[3 * j + 1] = v[1]; L[3 * j + 2] = v[2];
      dists.push(Math.sqrt(dot(v, v)));
    }
    D.cameras.forEach(function (c) { dists.push(Math.sqrt(dot(c.c, c.c))); });
    dists.sort(function (a, b) { return a - b; });
    // The view holds the central 95% of the points and every camera.
    var radius = dists.length ? Math.max(dists[Math.floor(0.95 * (dists.length - 1))], 1e-3) : 1;
    D.cameras.forEach(function (c) { radius = Math.max(radius, Math.sqrt(dot(c.c, c.c))); });
    var start = { yaw: 0.5, pitch: 0.6, zoom: 1 };
    var yaw = start.yaw, pitch = start.pitch, zoom = start.zoom;
    var W = canvas.width, H = canvas.height, F = H / (2 * Math.tan(25 * Math.PI / 180));
    var project = function (a, b, h) {
      var cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
      var x = a * cy - b * sy, y = a * sy + b * cy;
      var depth = y * cp - h * sp + 1.15 * radius / Math.tan(25 * Math.PI / 180) / zoom;
      if (depth < 1e-3 * radius) return null;
      return [W / 2 + F * x / depth, H / 2 - F * (y * sp + h * cp) / depth];
    };
    var projectWorld = function (v) { var l = local(v); return project(l[0], l[1], l[2]); };
    var line = function (a, b) {
      if (!a || !b) return;
      ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
    };
    var draw = function () {
      ctx.fillStyle = '#fafafa';
      ctx.fillRect(0, 0, W, H);
      for (var i = 0; i < n; i++) {
        var p = project(L[3 * i], L[3 * i + 1], L[3 * i + 2]);
        if (!p) continue;
        ctx.fillStyle = colour[i];
        ctx.fillRect(p[0] - 1, p[1] - 1, 2, 2);
      }
      // Database cameras: a pyramid from the centre to the image plane at a fixed depth.
      var s = 0.05 * radius;
      ctx.strokeStyle = '#2255cc'; ctx.lineWidth = 1;
      D.cameras.forEach(function (c) {
        var r = c.r, corners = [];
        [[-1, -1], [1, -1], [1, 1], [-1, 1]].forEach(function (xy) {
          var dx = xy[0] * c.tx, dy = xy[1] * c.ty;
          corners.push(projectWorld([
            c.c[0] + s * (r[6] + dx * r[0] + dy * r[3]),
            c.c[1] + s * (r[7] + dx * r[1] + dy * r[4]),
            c.c[2] + s * (r[8] + dx * r[2] + dy * r[5])]));
        });
        var o = projectWorld(c.c);
        for (var k = 0; k < 4; k++) { line(o, corners[k]); line(corners[k], corners[(k + 1) % 4]); }
      });
      // Queries: true position (green circle), reported one (red cross; grey for a fallback pose).
      D.queries.forEach(function (q) {
        var t = q.t ? projectWorld(q.t) : null, e = q.e ? projectWorld(q.e) : null;
        ctx.lineWidth = 1; ctx.strokeStyle = '#999';
        line(t, e);
        if (t) {
          ctx.lineWidth = 2; ctx.strokeStyle = '#1a9a3a';
          ctx.beginPath(); ctx.arc(t[0], t[1], 5, 0, 2 * Math.PI); ctx.stroke();
        }
        if (e) {
          ctx.lineWidth = 2; ctx.strokeStyle = q.k === 'fallback' ? '#888' : '#d22';
          line([e[0] - 4, e[1] - 4], [e[0] + 4, e[1] + 4]);
          line([e[0] - 4, e[1] + 4], [e[0] + 4, e[1] - 4]);
        }
      });
      ctx.fillStyle = '#555'; ctx.font = '12px sans-serif';
      ctx.fillText(n + ' of ' + D.total + ' points; drag to turn, wheel to zoom, double click to reset', 10, H - 10);
    };
    var dragging = null;
    canvas.addEventListener('pointerdown', function (e) { dragging = [e.clientX, e.clientY]; if (canvas.setPointerCapture) canvas.setPointerCapture(e.pointerId); });
    canvas.addEventListener('pointerup', function () { dragging = null; });
    canvas.addEventListener('pointercancel', function () { dragging = null; });
    canvas.addEventListener('pointermove', function (e) {
      if (!dragging) return;
      yaw += (e.clientX - dragging[0]) * 0.008;
      pitch = Math.max(-1.5, Math.min(1.5, pitch + (e.clientY - dragging[1]) * 0.008));
      dragging = [e.clientX, e.clientY];
      draw();
    });
    canvas.addEventListener('wheel', function (e) {
      e.preventDefault();
      zoom = Math.max(0.2, Math.min(20, zoom * Math.exp(-e.deltaY * 0.001)));
      draw();
    }, { passive: false });
    canvas.addEventListener('dblclick', function () { yaw = start.yaw; pitch = start.pitch; zoom = start.zoom; draw(); });
    draw();
  }
})();
""";
}
