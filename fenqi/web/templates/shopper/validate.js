// Live checks of the application form, the same rules as the server's (fenqi.origination.kyc).
(function () {
  const form = document.getElementById("apply-form");
  if (!form) return;
  const SEP = document.documentElement.lang === "en" ? ": " : "：";
  const digits = (s) => s.replace(/[\s-]/g, "");
  function idNumber(raw) {
    const v = raw.trim().toUpperCase();
    if (v.length !== 18) return MSG.id_number + SEP + DETAIL.length;
    if (!/^\d{17}[\dX]$/.test(v)) return MSG.id_number + SEP + DETAIL.format;
    const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += Number(v[i]) * w[i];
    if ("10X98765432"[sum % 11] !== v[17]) return MSG.id_number + SEP + DETAIL.check;
    // Only the province is checked (kyc.PROVINCES): county codes change, people keep their numbers.
    if (!/^(1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[1-3])/.test(v)) return MSG.id_number + SEP + DETAIL.region;
    const y = Number(v.slice(6, 10)), m = Number(v.slice(10, 12)), d = Number(v.slice(12, 14));
    const born = new Date(y, m - 1, d), today = new Date();
    if (born.getFullYear() !== y || born.getMonth() !== m - 1 || born.getDate() !== d || born > today)
      return MSG.id_number + SEP + DETAIL.birth;
    let age = today.getFullYear() - y;
    if (today.getMonth() < m - 1 || (today.getMonth() === m - 1 && today.getDate() < d)) age -= 1;
    if (age > 120) return MSG.id_number + SEP + DETAIL.birth;
    return age < 18 ? MSG.age : "";
  }
  function luhn(v) {
    let sum = 0;
    for (let i = 0; i < v.length; i++) {
      let n = Number(v[v.length - 1 - i]);
      if (i % 2 === 1) { n *= 2; if (n > 9) n -= 9; }
      sum += n;
    }
    return sum % 10 === 0;
  }
  const rules = {
    name: (v) => /^(?:[\u4e00-\u9fff\u3400-\u4dbf]+(?:[·•][\u4e00-\u9fff\u3400-\u4dbf]+)*|[A-Za-z][A-Za-z .'-]*)$/
      .test(v.trim().replace(/\s+/g, " ")) && v.trim().length >= 2 && v.trim().length <= 30 ? "" : MSG.name,
    id_number: idNumber,
    phone: (v) => /^(?:\+?86)?1[3-9]\d{9}$/.test(digits(v)) ? "" : MSG.phone,
    bank_card: (v) => { const c = digits(v); return /^\d{15,19}$/.test(c) && luhn(c) ? "" : MSG.bank_card; },
    store: (v) => v ? "" : MSG.store,
    monthly_income: (v) => /^\d+(\.\d{1,2})?$/.test(v.trim()) ? "" : MSG.monthly_income,
    employment_years: (v) => /^\d{1,2}$/.test(v.trim()) ? "" : MSG.count,
    residence_years: (v) => /^\d{1,3}$/.test(v.trim()) && Number(v) <= 100 ? "" : MSG.count,
    existing_loans: (v) => /^\d{1,3}$/.test(v.trim()) && Number(v) <= 100 ? "" : MSG.count,
  };
  function show(name, message) {
    const box = form.querySelector('[data-field="' + name + '"]');
    const err = document.getElementById("e-" + name);
    if (box) box.classList.toggle("bad", !!message);
    if (err) err.textContent = message;
  }
  function check(name) {
    const input = form.elements[name];
    const message = rules[name](input.value);
    show(name, message);
    return message;
  }
  function checkConsent(input) {
    const name = input.name;
    const message = input.checked ? "" : MSG.consent;
    show(name, message);
    return message;
  }
  Object.keys(rules).forEach((name) => {
    const input = form.elements[name];
    if (!input) return;
    input.addEventListener("blur", () => check(name));
    input.addEventListener("input", () => { if (input.closest(".bad")) check(name); });
    input.addEventListener("change", () => check(name));
  });
  const consents = form.querySelectorAll('input[name^="consent_"]');
  consents.forEach((c) => c.addEventListener("change", () => checkConsent(c)));
  form.addEventListener("submit", (event) => {
    const bad = Object.keys(rules).filter((name) => form.elements[name] && check(name));
    consents.forEach((c) => { if (checkConsent(c)) bad.push(c.name); });
    if (bad.length) {
      event.preventDefault();
      const first = form.elements[bad[0]];
      if (first && first.focus) first.focus();
    }
  });
})();
