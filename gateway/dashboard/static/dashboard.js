/* Graphiques du tableau de bord MEAL (Chart.js servi localement). Les données viennent du
   bloc JSON de la page, déjà masquées (« <5 ») côté serveur : une case masquée est un trou. */
(function () {
  "use strict";
  var node = document.getElementById("mno-data");
  if (!node || typeof Chart === "undefined") { return; }
  var data = JSON.parse(node.textContent);
  var palette = ["#1b7f4b", "#b3261e", "#f3c623", "#3366cc", "#7b3fa0", "#e67e22", "#16a085",
                 "#5f6368", "#c2185b", "#2e7d32"];
  Chart.defaults.animation = false;
  Chart.defaults.font.family = "system-ui, Segoe UI, Roboto, Noto Sans, Arial, sans-serif";
  Chart.defaults.locale = "fr-FR";

  function line(id, datasets, yTitle, max) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    new Chart(canvas, {
      type: "line",
      data: { labels: data.monthLabels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, spanGaps: false,
        scales: { y: { beginAtZero: true, max: max, title: { display: true, text: yTitle } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  line("chart-trend", [
    { label: "Orientations effectuées", data: data.series.referrals_made, borderColor: palette[0],
      backgroundColor: palette[0] },
    { label: "Orientations en retard", data: data.series.overdue_referrals, borderColor: palette[1],
      backgroundColor: palette[1] }
  ], "Nombre");
  line("chart-sop", [
    { label: "% accusés dans les délais", data: data.series.acknowledged_within_sop,
      borderColor: palette[3], backgroundColor: palette[3] },
    { label: "% acceptés dans les délais", data: data.series.accepted_within_sop,
      borderColor: palette[2], backgroundColor: palette[2] }
  ], "%", 100);

  data.breakdowns.forEach(function (b) {
    var canvas = document.getElementById("chart-" + b.dimension);
    if (!canvas) { return; }
    new Chart(canvas, {
      type: "bar",
      data: { labels: b.labels, datasets: [{ label: "Nombre", data: b.values,
        backgroundColor: b.labels.map(function (_l, i) { return palette[i % palette.length]; }) }] },
      options: {
        responsive: true, indexAxis: b.labels.length > 6 ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true }, y: { beginAtZero: true } }
      }
    });
  });
  document.documentElement.setAttribute("data-charts", "ready");
}());
