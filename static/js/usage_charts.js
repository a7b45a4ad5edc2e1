// Plotly charts fed by json_script blocks: data-chart names the JSON element, data-kind the
// chart. Used by /rankings, /apps/<id>, model pages and /activity.
(function () {
  "use strict";
  var FONT = { family: "system-ui, sans-serif", size: 12, color: "#334155" };
  function layout(extra) {
    var base = { margin: { l: 56, r: 12, t: 8, b: 36 }, font: FONT, paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)", legend: { orientation: "h", y: -0.18 },
      xaxis: { gridcolor: "#e2e8f0" }, yaxis: { gridcolor: "#e2e8f0", rangemode: "tozero" } };
    for (var k in extra) { base[k] = extra[k]; }
    return base;
  }
  function measure() {
    var checked = document.querySelector("input[name=measure]:checked");
    return checked ? checked.value : "tokens";
  }
  function draw(el) {
    var data = JSON.parse(document.getElementById(el.dataset.chart).textContent);
    var kind = el.dataset.kind, traces = [], lay = {};
    if (kind === "stacked" || kind === "share") {
      var m = measure();
      traces = data.series.map(function (s) {
        return { x: data.weeks, y: s[m], name: s.name, type: "bar",
          hovertemplate: "%{y:.3s}<extra>" + s.name + "</extra>" };
      });
      // The legend names the series even when there is one (e.g. only closed models used).
      lay = { barmode: "stack", barnorm: kind === "share" ? "percent" : "", showlegend: true,
        yaxis: { title: kind === "share" ? "% of " + m : m === "cost" ? "USD" : "tokens",
          gridcolor: "#e2e8f0" } };
    } else if (kind === "daily") {
      traces = [{ x: data.days, y: data.values, type: "bar", marker: { color: "#6366f1" },
        hovertemplate: "%{x}: %{y:.3s}<extra></extra>" }];
      // Whole days on the axis: with few days plotly would otherwise tick at sub-day times.
      lay = { showlegend: false, xaxis: { type: "date", tickformat: "%b %e",
        gridcolor: "#e2e8f0", dtick: data.days.length < 10 ? 86400000 : undefined } };
    } else if (kind === "bars") {
      // Shares per label, largest on top; the chart grows with the number of bars.
      el.style.height = (56 + 28 * data.labels.length) + "px";
      traces = [{ y: data.labels, x: data.shares.map(function (v) { return v * 100; }),
        type: "bar", orientation: "h", marker: { color: "#6366f1" },
        hovertemplate: "%{y}: %{x:.1f}%<extra></extra>" }];
      lay = { showlegend: false, margin: { l: 12, r: 12, t: 8, b: 36 },
        xaxis: { ticksuffix: "%", gridcolor: "#e2e8f0", rangemode: "tozero" },
        yaxis: { autorange: "reversed", automargin: true } };
    } else if (kind === "activity") {
      var series = el.dataset.series || "spend";
      traces = [{ x: data.days, y: data[series], type: "bar", marker: { color: "#6366f1" },
        hovertemplate: "%{x}: %{y:.4s}<extra></extra>" }];
      lay = { showlegend: false, yaxis: { title: series === "spend" ? "USD" : series,
        gridcolor: "#e2e8f0", rangemode: "tozero" } };
    }
    window.Plotly.react(el, traces, layout(lay), { displayModeBar: false, responsive: true });
  }
  function drawAll() { document.querySelectorAll("[data-chart]").forEach(draw); }
  document.addEventListener("DOMContentLoaded", function () {
    drawAll();
    document.querySelectorAll("input[name=measure]").forEach(function (input) {
      input.addEventListener("change", drawAll);
    });
    document.querySelectorAll("[data-series-switch]").forEach(function (sel) {
      sel.addEventListener("change", function () {
        var el = document.getElementById(sel.dataset.seriesSwitch);
        el.dataset.series = sel.value; draw(el);
      });
    });
  });
})();
