/* rundocs: draw the figures and diagrams of a generated page with the plotly.js and mermaid
   shipped beside this file. Each library is loaded only on pages that need it, from this
   script's own folder, so the site works offline and from a file share. */
(function () {
  var here = document.currentScript && document.currentScript.src;
  var base = here ? here.slice(0, here.lastIndexOf("/") + 1) : "";
  var loading = {};

  function withLibrary(file, ready, callback) {
    if (ready()) return callback();
    if (!loading[file]) {
      loading[file] = [];
      var script = document.createElement("script");
      script.src = base + file;
      script.onload = function () { loading[file].forEach(function (f) { f(); }); };
      document.head.appendChild(script);
    }
    loading[file].push(callback);
  }

  function drawFigures() {
    var figures = document.querySelectorAll(".rd-figure:not([data-rd-drawn])");
    if (!figures.length) return;
    withLibrary("plotly.min.js", function () { return window.Plotly; }, function () {
      figures.forEach(function (element) {
        var source = element.querySelector("script[type='application/json']");
        if (!source) return;
        var spec = JSON.parse(source.textContent);
        element.setAttribute("data-rd-drawn", "");
        window.Plotly.newPlot(element, spec.data, spec.layout, {responsive: true, displaylogo: false});
      });
    });
  }

  function drawDiagrams() {
    var diagrams = document.querySelectorAll("pre.rd-mermaid:not([data-processed])");
    if (!diagrams.length) return;
    withLibrary("mermaid.min.js", function () { return window.mermaid && window.mermaid.run; }, function () {
      window.mermaid.initialize({startOnLoad: false, securityLevel: "strict"});
      window.mermaid.run({nodes: diagrams});
    });
  }

  function draw() { drawFigures(); drawDiagrams(); }

  if (window.document$ && window.document$.subscribe) window.document$.subscribe(draw);  /* Material instant loading */
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
