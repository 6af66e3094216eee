// Draws every <div class="chart" data-figure="..."> with the plotly.min.js served by this app (no CDN).
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
      var fig = JSON.parse(el.dataset.figure);
      fig.layout.font = { family: '"Noto Sans CJK SC", "Noto Sans SC", sans-serif' };
      fig.layout.paper_bgcolor = "#fff";
      window.Plotly.newPlot(el, fig.data, fig.layout, { displaylogo: false, responsive: true, staticPlot: false })
        .then(function () { el.dataset.drawn = "yes"; });
    });
  }
  if (window.Plotly) draw(); else window.addEventListener("load", draw);
})();
