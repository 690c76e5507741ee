/* rundocs: draw the figures of a generated page with the plotly.js shipped beside this file.
   plotly.js is loaded only on pages that hold a figure, from this script's own folder, so the
   site works offline and from a file share. */
(function () {
  var here = document.currentScript && document.currentScript.src;
  var base = here ? here.slice(0, here.lastIndexOf("/") + 1) : "";
  var loading = null;

  function withPlotly(callback) {
    if (window.Plotly) return callback();
    if (!loading) {
      loading = [];
      var script = document.createElement("script");
      script.src = base + "plotly.min.js";
      script.onload = function () { loading.forEach(function (f) { f(); }); };
      document.head.appendChild(script);
    }
    loading.push(callback);
  }

  function draw() {
    var figures = document.querySelectorAll(".rd-figure:not([data-rd-drawn])");
    if (!figures.length) return;
    withPlotly(function () {
      figures.forEach(function (element) {
        var source = element.querySelector("script[type='application/json']");
        if (!source) return;
        var spec = JSON.parse(source.textContent);
        element.setAttribute("data-rd-drawn", "");
        window.Plotly.newPlot(element, spec.data, spec.layout, {responsive: true, displaylogo: false});
      });
    });
  }

  if (window.document$ && window.document$.subscribe) window.document$.subscribe(draw);  /* Material instant loading */
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
