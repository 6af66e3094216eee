// Draws every <div class="chart" data-option="..."> with Apache ECharts (vendor/echarts.min.js, served by
// this app: no CDN). The option is built on the server; here only the font, the locale and the renderer
// are chosen. window.fenqiChartsMs: how long the first render of all the page's charts took; the
// performance mark "fenqi-charts-drawn": when they were drawn, counted from the navigation start.
(function () {
  "use strict";
  var FONT = '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  function draw() {
    var started = performance.now();
    var charts = [];
    document.querySelectorAll(".chart[data-option]").forEach(function (el) {
      var option = JSON.parse(el.dataset.option);
      option.textStyle = { fontFamily: FONT };
      var chart = window.echarts.init(el, null, { renderer: "svg", locale: el.dataset.locale === "zh" ? "ZH" : "EN" });
      chart.setOption(option);
      el.dataset.drawn = "yes";
      charts.push(chart);
    });
    window.fenqiChartsMs = performance.now() - started;
    if (performance.mark) performance.mark("fenqi-charts-drawn");  // since navigation start: script load included
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }
  if (window.echarts) draw(); else window.addEventListener("load", draw);
})();
