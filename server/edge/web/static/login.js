// The clerk's login: POST the username and password; the server sets an HttpOnly,
// SameSite=Strict session cookie and the console page takes over. The button stays
// disabled (login.html) until the handler below is in place: a form submitted before
// would be sent natively, as a GET with the password in the address.
import { clock } from "/static/lib/protocol.js";
import * as i18n from "/static/lib/i18n.js";
import { t, tOr } from "/static/lib/i18n.js";

async function main() {
  const info = await clock.sync();
  await i18n.load(i18n.pick(info && info.language));
  i18n.translate();
  document.title = t("login.title");
  const form = document.getElementById("login-form");
  const error = document.getElementById("login-error");
  document.getElementById("password").focus();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const res = await fetch("/api/console/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: form.username.value, password: form.password.value }),
    });
    if (res.ok) {
      location.replace("/console" + location.search);
      return;
    }
    const data = await res.json().catch(() => ({}));
    error.textContent = tOr(`login.${data.error}`, t("login.failed"), { seconds: data.retry_after ?? 60 });
    form.password.select();
  });
  document.getElementById("login-button").disabled = false;
}

main();
