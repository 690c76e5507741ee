/* rundocs: draw the figures and diagrams of a generated page with the plotly.js and mermaid
   shipped beside this file, in the colours of the page's palette (light or dark), and make the
   tables inside `.rd-sortable` sortable. Each library is loaded only on pages that need it, from
   this script's own folder, so the site works offline and from a file share. */
(function () {
  var here = document.currentScript && document.currentScript.src;
  var base = here ? here.slice(0, here.lastIndexOf("/") + 1) : "";
  var loading = {};
  var CLEAR = "rgba(0,0,0,0)";

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

  /* The page's colours as rgb() strings, read from Material's CSS variables through a probe. */
  function pageColours() {
    var probe = document.createElement("span");
    document.body.appendChild(probe);
    function read(variable) {
      probe.style.color = "var(" + variable + ")";
      return getComputedStyle(probe).color;
    }
    var colours = {
      text: read("--md-typeset-color"),
      faint: read("--md-default-fg-color--light"),
      grid: read("--md-default-fg-color--lightest"),
      ground: read("--md-default-bg-color")
    };
    probe.remove();
    return colours;
  }

  /* Plotly's layout attributes (dotted paths) that draw a figure in the page's colours: no
     ground of its own, text and grid lines from the palette. */
  function paletteUpdate(layout, colours) {
    var update = {
      "paper_bgcolor": CLEAR, "plot_bgcolor": CLEAR, "font.color": colours.text,
      "legend.bgcolor": CLEAR, "hoverlabel.bgcolor": colours.ground, "hoverlabel.font.color": colours.text,
      "modebar.bgcolor": CLEAR, "modebar.color": colours.faint, "modebar.activecolor": colours.text
    };
    Object.keys(layout).forEach(function (key) {
      if (!/^[xy]axis\d*$/.test(key)) return;
      update[key + ".gridcolor"] = colours.grid;
      update[key + ".linecolor"] = colours.grid;
      update[key + ".zerolinecolor"] = colours.faint;
    });
    return update;
  }

  /* Parallel coordinates write their tick labels over the lines with a halo: of the page's ground. */
  function haloUpdate(colours) {
    var ground = colours.ground;
    return {"tickfont.shadow": ["1px 1px 1px", "-1px -1px 1px", "1px -1px 1px", "-1px 1px 1px"]
      .map(function (offset) { return offset + " " + ground; }).join(", ")};
  }

  function parcoordsIndices(data) {
    return data.map(function (trace, index) { return trace.type === "parcoords" ? index : -1; })
      .filter(function (index) { return index >= 0; });
  }

  function setPath(target, path, value) {
    var keys = path.split(".");
    keys.slice(0, -1).forEach(function (key) {
      if (typeof target[key] !== "object" || target[key] === null) target[key] = {};
      target = target[key];
    });
    target[keys[keys.length - 1]] = value;
  }

  function drawFigures() {
    var figures = document.querySelectorAll(".rd-figure:not([data-rd-drawn])");
    if (!figures.length) return;
    withLibrary("plotly.min.js", function () { return window.Plotly; }, function () {
      var colours = pageColours();
      figures.forEach(function (element) {
        var source = element.querySelector("script[type='application/json']");
        if (!source) return;
        var spec = JSON.parse(source.textContent);
        var update = paletteUpdate(spec.layout, colours);
        Object.keys(update).forEach(function (path) { setPath(spec.layout, path, update[path]); });
        var halo = haloUpdate(colours);
        parcoordsIndices(spec.data).forEach(function (index) {
          Object.keys(halo).forEach(function (path) { setPath(spec.data[index], path, halo[path]); });
        });
        element.setAttribute("data-rd-drawn", "");
        window.Plotly.newPlot(element, spec.data, spec.layout, {responsive: true, displaylogo: false});
      });
    });
  }

  /* Material switches the palette by setting data-md-color-scheme on <body>. */
  function repaintFigures() {
    if (!window.Plotly) return;
    var colours = pageColours();
    document.querySelectorAll(".rd-figure[data-rd-drawn]").forEach(function (element) {
      if (!element.layout) return;
      window.Plotly.relayout(element, paletteUpdate(element.layout, colours));
      var indices = parcoordsIndices(element.data);
      if (indices.length) window.Plotly.restyle(element, haloUpdate(colours), indices);
    });
  }

  function drawDiagrams() {
    var diagrams = document.querySelectorAll("pre.rd-mermaid:not([data-processed])");
    if (!diagrams.length) return;
    withLibrary("mermaid.min.js", function () { return window.mermaid && window.mermaid.run; }, function () {
      /* Labels wrap at the width below instead of running on; edge colours come from rundocs.css. */
      window.mermaid.initialize({
        startOnLoad: false, securityLevel: "strict",
        flowchart: {htmlLabels: true, wrappingWidth: 240}
      });
      window.mermaid.run({nodes: diagrams});
    });
  }

  function sortTables() {
    if (!document.querySelector(".rd-sortable table")) return;
    withLibrary("rundocs-sort.js", function () { return window.rundocsSort; }, function () {
      window.rundocsSort(document);
    });
  }

  function draw() { drawFigures(); drawDiagrams(); sortTables(); }

  function watchPalette() {
    new MutationObserver(repaintFigures).observe(document.body, {attributes: true, attributeFilter: ["data-md-color-scheme"]});
  }

  if (window.document$ && window.document$.subscribe) window.document$.subscribe(draw);  /* Material instant loading */
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
  if (document.body) watchPalette();
  else document.addEventListener("DOMContentLoaded", watchPalette);
})();
