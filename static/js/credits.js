// Credits page: the fee is shown before paying, recomputed as the amount is typed (the same
// rule as billing/fees.py: 5.5 % with a $0.80 minimum, whole cents); the server recomputes it.
(function () {
  const form = document.getElementById("buy-form");
  if (!form) return;
  const input = form.querySelector("input[name=amount]");
  const rate = parseFloat(form.dataset.feeRate) / 100;
  const minimum = parseFloat(form.dataset.feeMinimum);
  const usd = (cents) => "$" + (cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  function update() {
    const text = input.value.replace(/[$,\s]/g, "");
    const credits = Math.round(parseFloat(text) * 100);
    const ok = /^\d+(\.\d{1,2})?$/.test(text) && credits > 0;
    const fee = ok ? Math.max(Math.round(credits * rate + 1e-9), Math.round(minimum * 100)) : 0;
    document.getElementById("quote-credits").textContent = ok ? usd(credits) : "—";
    document.getElementById("quote-fee").textContent = ok ? usd(fee) : "—";
    document.getElementById("quote-total").textContent = ok ? usd(credits + fee) : "—";
  }
  input.addEventListener("input", update);
  update();
  // A double click submits once; the form's token makes a second submission harmless anyway.
  form.addEventListener("submit", () => {
    const button = document.getElementById("buy-button");
    setTimeout(() => { button.disabled = true; button.textContent = "Opening checkout…"; }, 0);
  });
})();
