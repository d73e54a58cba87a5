/*
 * The demo shop page: "Log in as" a demo customer (POST /widget/login gives a customer token,
 * the widget starts a fresh conversation with it) and "Ask the assistant" on a product.
 */
(function () {
  "use strict";

  const CHOICE_KEY = "supportbot-shop-customer";

  function widget() {
    return window.SupportbotWidget;
  }

  function remembered() {
    try {
      return localStorage.getItem(CHOICE_KEY) || "";
    } catch (error) {
      return "";
    }
  }

  function remember(value) {
    try {
      if (value) localStorage.setItem(CHOICE_KEY, value);
      else localStorage.removeItem(CHOICE_KEY);
    } catch (error) {
      /* not essential */
    }
  }

  function setUp() {
    const form = document.getElementById("demo-login");
    const select = document.getElementById("demo-customer");
    const status = document.getElementById("demo-login-status");
    if (form && select) {
      const chosen = remembered();
      if (chosen && select.querySelector(`option[value="${CSS.escape(chosen)}"]`)) {
        select.value = chosen;
      }
      form.addEventListener("submit", (event) => event.preventDefault());
      select.addEventListener("change", async () => {
        const value = select.value;
        status.textContent = "";
        if (!value) {
          remember("");
          widget()?.setToken("");
          status.textContent = "Chatting as a guest.";
          return;
        }
        try {
          const response = await fetch("/widget/login", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ customer_id: Number(value) }),
            credentials: "same-origin",
          });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          const body = await response.json();
          remember(value);
          widget()?.setToken(body.token);
          status.textContent = `Chatting as ${body.customer.name}.`;
        } catch (error) {
          status.textContent = "Couldn't log in — please try again.";
        }
      });
    }

    for (const button of document.querySelectorAll("[data-ask]")) {
      button.addEventListener("click", () => {
        const w = widget();
        if (!w) return;
        w.open();
        w.send(button.dataset.ask);
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
