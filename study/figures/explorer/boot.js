// Unpacks plotly.js with the browser's DecompressionStream, runs it, then runs the page's logic (explorer.js).
(function () {
  "use strict";
  window.PlotlyConfig = {MathJaxConfig: "local"};
  function run(code) { var s = document.createElement("script"); s.text = code; document.body.appendChild(s); }
  var text = atob(document.getElementById("explorer-plotlyjs").textContent.trim());
  var bytes = new Uint8Array(text.length);
  for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
  new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text().then(function (js) {
    run(js);
    run(document.getElementById("explorer-script").textContent);
  });
})();
