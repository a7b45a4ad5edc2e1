// Model page: per provider endpoint and UTC day, uptime (top) and mean time to first token
// (bottom). Days are categories, so a single day of history still reads as points, not bars
// stretched across a date axis.
(function () {
  const source = document.getElementById("endpoint-history");
  const target = document.getElementById("endpoint-chart");
  if (!source || !target || !window.Plotly) return;
  const history = JSON.parse(source.textContent);
  const palette = ["#4f46e5", "#0891b2", "#16a34a", "#d97706", "#db2777", "#7c3aed", "#475569"];
  const days = [...new Set(history.flatMap((e) => e.days.map((d) => d.date)))].sort();
  const traces = [];
  let lowest = 100;
  history.forEach((endpoint, i) => {
    const color = palette[i % palette.length];
    const byDate = Object.fromEntries(endpoint.days.map((d) => [d.date, d]));
    const pick = (field) => days.map((day) => (byDate[day] ? byDate[day][field] : null));
    pick("uptime").forEach((u) => { if (u !== null) lowest = Math.min(lowest, u); });
    traces.push({
      type: "scatter", mode: "lines+markers", name: endpoint.tag, legendgroup: endpoint.tag,
      x: days, y: pick("uptime"), customdata: pick("requests"), yaxis: "y",
      line: { color: color, width: 2 }, marker: { size: 8 },
      hovertemplate: "%{x}: %{y:.2f}% of %{customdata} requests<extra>" + endpoint.tag + "</extra>",
    });
    traces.push({
      type: "scatter", mode: "lines+markers", name: endpoint.tag, legendgroup: endpoint.tag,
      showlegend: false, x: days, y: pick("latency_ms"), yaxis: "y2",
      line: { color: color, width: 2, dash: "dot" }, marker: { size: 7, symbol: "diamond" },
      hovertemplate: "%{x}: %{y} ms to first token<extra>" + endpoint.tag + "</extra>",
    });
  });
  const narrow = target.clientWidth < 560;
  Plotly.newPlot(target, traces, {
    height: narrow ? 420 : 380,
    margin: { l: 56, r: 16, t: 10, b: 30 },
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: "inherit", size: 12 },
    xaxis: { type: "category", anchor: "y2" },
    yaxis: { domain: [0.56, 1], title: { text: "Uptime %" },
             range: [Math.max(0, Math.floor(lowest) - 2), 101] },
    yaxis2: { domain: [0, 0.44], title: { text: "Latency (ms)" }, rangemode: "tozero" },
    legend: { orientation: "h", y: -0.12 },
  }, { displayModeBar: false, responsive: true });
})();
