// Directory page: search on change, and filter the cards shown by name without reloading.
(function () {
  "use strict";
  var form = document.getElementById("recherche");
  var filter = document.getElementById("filtre");
  var count = document.getElementById("compte");
  var cards = Array.prototype.slice.call(document.querySelectorAll("#resultats .service"));

  ["categorie", "zone", "langue", "disponible"].forEach(function (id) {
    var field = document.getElementById(id);
    if (field) {
      field.addEventListener("change", function () { form.submit(); });
    }
  });

  function plural(n) { return n === 1 ? "" : "s"; }

  function applyFilter() {
    var words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    cards.forEach(function (card) {
      var text = card.getAttribute("data-search") || "";
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      card.hidden = !match;
      if (match) { shown += 1; }
    });
    count.textContent = shown + " service" + plural(shown) + " trouvé" + plural(shown);
  }

  if (filter) {
    filter.addEventListener("input", applyFilter);
    // The filter never reaches the server: it only narrows the cards already shown.
    filter.removeAttribute("name");
  }
})();
