// practicelake dashboard: draws every chart from its JSON data island with Chart.js, formats
// its numbers in the page's locale and currency, and lets the legend buttons hide a series.
// The page works without it: every chart has a table of the same figures.
(function () {
  "use strict";

  // The series colours, in the order of the CSS swatches (.swatch--0 ... .swatch--7): one
  // accent, then tones that stay apart for the common colour-vision deficiencies.
  var PALETTE = ["#0b6e99", "#d97706", "#6d28d9", "#15803d", "#be123c", "#0e7490", "#854d0e", "#475569"];
  var INK = "#1c2733";
  var MUTED = "#5b6776";
  var GRID = "#e3e8ee";
  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

  // How a value of each unit reads; `short` is for the axis ticks.
  function formatter(unit, locale, currency, short) {
    var plain = function (digits) {
      return new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
    };
    var suffix = { days: " days", minutes: " min", per_day: " a day" }[unit] || "";
    var format;
    if (unit === "rate") {
      format = new Intl.NumberFormat(locale, { style: "percent", minimumFractionDigits: short ? 0 : 1, maximumFractionDigits: 1 });
    } else if (unit === "money" && currency) {
      format = new Intl.NumberFormat(locale, short
        ? { style: "currency", currency: currency, notation: "compact", maximumFractionDigits: 1 }
        : { style: "currency", currency: currency });
    } else if (unit === "count" || unit === "minutes") {
      format = short ? new Intl.NumberFormat(locale, { notation: "compact" }) : plain(0);
    } else if (unit === "ratio" || unit === "money") {
      format = plain(2);
    } else {
      format = plain(1);
    }
    return function (value) {
      if (value === null || value === undefined) {
        return "no data";
      }
      return format.format(value) + (short ? "" : suffix);
    };
  }

  function datasets(model) {
    var stacked = model.kind === "stacked";
    return model.series.map(function (series, index) {
      var colour = PALETTE[index % PALETTE.length];
      return {
        label: series.name,
        data: series.values,
        borderColor: colour,
        backgroundColor: model.kind === "line" ? colour : colour + (stacked ? "" : "d9"),
        borderWidth: model.kind === "line" ? 2 : 0,
        pointRadius: model.kind === "line" ? 2.5 : 0,
        pointHoverRadius: 5,
        tension: 0.25,
        spanGaps: false,
        maxBarThickness: 36
      };
    });
  }

  function draw(island) {
    var canvas = document.getElementById(island.dataset.canvas);
    if (!canvas || typeof Chart === "undefined") {
      return;
    }
    var model = JSON.parse(island.textContent);
    var full = formatter(model.unit, model.locale, model.currency, false);
    var tick = formatter(model.unit, model.locale, model.currency, true);
    var stacked = model.kind === "stacked";
    var chart = new Chart(canvas, {
      type: model.kind === "line" ? "line" : "bar",
      data: { labels: model.labels, datasets: datasets(model) },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        locale: model.locale,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + full(item.raw);
              }
            }
          }
        },
        scales: {
          x: {
            stacked: stacked,
            grid: { display: false },
            ticks: { color: MUTED, maxRotation: 0, autoSkip: true, autoSkipPadding: 8 },
            title: { display: true, text: model.x_label, color: MUTED }
          },
          y: {
            stacked: stacked,
            beginAtZero: true,
            grid: { color: GRID },
            border: { display: false },
            ticks: { color: MUTED, callback: function (value) { return tick(value); } },
            title: { display: true, text: model.y_label, color: MUTED }
          }
        }
      }
    });
    var legend = document.querySelectorAll('.legend-item[data-chart="' + island.id + '"]');
    legend.forEach(function (button) {
      button.addEventListener("click", function () {
        var index = Number(button.dataset.series);
        var shown = !chart.isDatasetVisible(index);
        chart.setDatasetVisibility(index, shown);
        button.setAttribute("aria-pressed", shown ? "true" : "false");
        chart.update();
      });
    });
  }

  // The filter bar sends only what it sets: empty choices ("All") and the custom dates of a
  // preset period stay out of the URL, which then says exactly what the view shows.
  function tidy(form) {
    form.addEventListener("submit", function () {
      var period = form.elements.namedItem("period");
      Array.prototype.forEach.call(form.elements, function (field) {
        var custom = field.name === "start" || field.name === "end";
        if (field.name && (field.value === "" || (custom && period && period.value !== "custom"))) {
          field.disabled = true;
        }
      });
    });
    // Back from the next page, the fields are enabled again.
    window.addEventListener("pageshow", function () {
      Array.prototype.forEach.call(form.elements, function (field) { field.disabled = false; });
    });
  }

  // A definition panel shown on focus closes with Escape (WCAG 1.4.13, dismissible).
  function dismissible(button) {
    button.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        button.classList.add("info--dismissed");
      }
    });
    button.addEventListener("blur", function () {
      button.classList.remove("info--dismissed");
    });
  }

  if (typeof Chart !== "undefined") {
    Chart.defaults.font.family = FONT;
    Chart.defaults.color = INK;
  }
  document.querySelectorAll('script.chart-data[type="application/json"]').forEach(draw);
  document.querySelectorAll("form.filters").forEach(tidy);
  document.querySelectorAll("button.info").forEach(dismissible);
})();
