/*
 * The shop's chat widget: a floating button that opens a chat panel talking to Rasa's
 * socket.io channel. Plain JavaScript, no framework; needs socket.io-client's `io` global
 * (/static/vendor/socket.io.min.js) loaded before it.
 *
 * Configuration, from the data- attributes of this script's tag, overridden by an optional
 * <script type="application/json" id="supportbot-widget-config"> element:
 *   data-socket-url    Rasa's socket.io server, (scheme, host and port)
 *                      (empty: this page's hostname on data-rasa-port, default 5005)
 *   data-socket-path   default /socket.io
 *   data-token         a signed role token sent with every message (optional)
 *   data-title         the panel's title
 *   data-storage-key   where the conversation is kept in localStorage (one per embedding)
 *   data-metadata-key  the message field Rasa reads metadata from (credentials.yml
 *                      `metadata_key`, Rasa's default "metadata")
 *
 * Protocol (Rasa 3.6, socketio channel with session_persistence: true):
 *   -> session_request {session_id}      <- session_confirm "<session id>"
 *   -> user_uttered {message, session_id, metadata: {token}}
 *   <- bot_uttered {text} | {text, quick_replies: [{title, payload}]} | {attachment}
 *                  | {type: "product_cards", products: [...]} (custom JSON)
 *
 * All message content is inserted as text (textContent), never as HTML.
 * window.SupportbotWidget: open(), close(), send(text), setToken(token), reset(), transcript().
 */
(function () {
  "use strict";

  const script = document.currentScript;
  const MAX_TRANSCRIPT = 200;
  const TYPING_TIMEOUT_MS = 30000;

  function readConfig() {
    const data = (script && script.dataset) || {};
    let config = {
      socketUrl: data.socketUrl || "",
      socketPath: data.socketPath || "/socket.io",
      rasaPort: data.rasaPort || "5005",
      token: data.token || "",
      title: data.title || "Customer support",
      storageKey: data.storageKey || "supportbot-widget",
      metadataKey: data.metadataKey || "metadata",
    };
    const element = document.getElementById("supportbot-widget-config");
    if (element) {
      try {
        const extra = JSON.parse(element.textContent || "{}");
        const names = {
          socket_url: "socketUrl",
          socket_path: "socketPath",
          rasa_port: "rasaPort",
          token: "token",
          title: "title",
          storage_key: "storageKey",
          metadata_key: "metadataKey",
        };
        for (const [key, value] of Object.entries(extra)) {
          const name = names[key] || key;
          if (name in config && value !== null && value !== undefined && value !== "") {
            config[name] = String(value);
          }
        }
      } catch (error) {
        console.warn("supportbot widget: unreadable JSON configuration", error);
      }
    }
    if (!config.socketUrl) {
      config.socketUrl = `${location.protocol}//${location.hostname}:${config.rasaPort}`;
    }
    return config;
  }

  const config = readConfig();

  // ---- storage: the session id, the token it was started with, and the transcript ----

  function loadState() {
    try {
      const raw = localStorage.getItem(config.storageKey);
      const state = raw ? JSON.parse(raw) : null;
      if (state && typeof state === "object" && Array.isArray(state.transcript)) {
        return state;
      }
    } catch (error) {
      /* private mode or corrupt entry: start afresh */
    }
    return { sessionId: null, token: "", transcript: [], nextId: 1 };
  }

  function saveState() {
    try {
      state.transcript = state.transcript.slice(-MAX_TRANSCRIPT);
      localStorage.setItem(config.storageKey, JSON.stringify(state));
    } catch (error) {
      /* storage full or unavailable: the conversation simply won't survive a reload */
    }
  }

  let state = loadState();
  // A page that names a (different) token speaks for someone else: a fresh conversation.
  if (config.token && config.token !== state.token) {
    state = { sessionId: null, token: config.token, transcript: [], nextId: 1 };
    saveState();
  }
  // A random id of this page's visit, 16 hex digits (see connect()).
  const visitorId = Array.from(window.crypto.getRandomValues(new Uint8Array(8)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");

  // ---- DOM ----

  function el(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === "class") node.className = value;
      else node.setAttribute(name, value);
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function bubbleIcon() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "sbw-launcher-icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    svg.append(path);
    return svg;
  }

  const uid = Math.random().toString(36).slice(2, 8);
  const ids = {
    panel: `sbw-panel-${uid}`,
    title: `sbw-title-${uid}`,
    input: `sbw-input-${uid}`,
    status: `sbw-status-${uid}`,
  };

  const root = el("div", { class: "sbw-root" });
  const launcher = el("button", {
    type: "button",
    class: "sbw-launcher",
    "aria-haspopup": "dialog",
    "aria-expanded": "false",
    "aria-controls": ids.panel,
  });
  launcher.append(bubbleIcon());
  launcher.append(el("span", { class: "sbw-launcher-label" }, "Chat with us"));

  const panel = el("section", {
    id: ids.panel,
    class: "sbw-panel",
    role: "dialog",
    "aria-modal": "false",
    "aria-labelledby": ids.title,
  });
  panel.hidden = true;

  const header = el("header", { class: "sbw-header" });
  const title = el("h2", { id: ids.title, class: "sbw-title" }, config.title);
  const restart = el("button", { type: "button", class: "sbw-icon-button sbw-restart" }, "New chat");
  restart.setAttribute("aria-label", "Start a new conversation");
  const closeButton = el("button", { type: "button", class: "sbw-icon-button sbw-close" }, "✕");
  closeButton.setAttribute("aria-label", "Close chat");
  header.append(title, restart, closeButton);

  const status = el("p", { id: ids.status, class: "sbw-status", role: "status" });
  status.hidden = true;

  const log = el("div", {
    class: "sbw-log",
    role: "log",
    "aria-live": "polite",
    "aria-relevant": "additions",
    "aria-label": "Conversation",
    tabindex: "0",
  });

  const typing = el("div", { class: "sbw-typing" });
  typing.hidden = true;
  const dots = el("span", { class: "sbw-dots", "aria-hidden": "true" });
  dots.append(el("span"), el("span"), el("span"));
  typing.append(dots, el("span", { class: "sbw-sr-only" }, "The assistant is typing…"));

  const form = el("form", { class: "sbw-form" });
  const label = el("label", { for: ids.input, class: "sbw-sr-only" }, "Your message");
  const input = el("input", {
    id: ids.input,
    class: "sbw-input",
    type: "text",
    autocomplete: "off",
    maxlength: "1000",
    placeholder: "Type your message…",
    "aria-describedby": ids.status,
  });
  const sendButton = el("button", { type: "submit", class: "sbw-send" }, "Send");
  form.append(label, input, sendButton);

  panel.append(header, status, log, typing, form);
  root.append(panel, launcher);

  // ---- rendering ----

  const rendered = new Map(); // transcript entry id -> its element

  function priceText(product) {
    const amount = Number(product.price);
    if (!Number.isFinite(amount)) return String(product.price ?? "");
    try {
      return new Intl.NumberFormat(undefined, {
        style: "currency",
        currency: product.currency || "EUR",
      }).format(amount);
    } catch (error) {
      return `${amount.toFixed(2)} ${product.currency || ""}`.trim();
    }
  }

  function choiceButtons(entry, buttons) {
    const group = el("div", { class: "sbw-choices", role: "group", "aria-label": "Choose an answer" });
    if (buttons.length > 6 && buttons.every((b) => String(b.title).length <= 3)) {
      group.classList.add("sbw-choices-scale");
    }
    for (const button of buttons) {
      const choice = el("button", { type: "button", class: "sbw-choice" }, button.title);
      choice.addEventListener("click", () => {
        sendMessage(String(button.title), String(button.payload ?? button.title));
      });
      group.append(choice);
    }
    return group;
  }

  function productCards(products) {
    const list = el("ul", { class: "sbw-cards", "aria-label": "Suggested products" });
    for (const product of products) {
      const card = el("li", { class: "sbw-card" });
      card.append(el("p", { class: "sbw-card-name" }, product.name));
      card.append(el("p", { class: "sbw-card-price" }, priceText(product)));
      if (product.reason) card.append(el("p", { class: "sbw-card-reason" }, product.reason));
      if (product.payload) {
        const more = el("button", { type: "button", class: "sbw-card-more" }, "Tell me more");
        more.setAttribute("aria-label", `Tell me more about ${product.name}`);
        more.addEventListener("click", () => {
          sendMessage(`Tell me more about ${product.name}`, String(product.payload));
        });
        card.append(more);
      }
      list.append(card);
    }
    return list;
  }

  function renderEntry(entry) {
    const item = el("div", { class: `sbw-message sbw-from-${entry.from}` });
    item.append(el("span", { class: "sbw-sr-only" }, entry.from === "user" ? "You: " : "Assistant: "));
    if (entry.text) item.append(el("p", { class: "sbw-bubble" }, entry.text));
    if (entry.link) {
      const link = el("a", { class: "sbw-link", href: entry.link, target: "_blank", rel: "noopener noreferrer" }, entry.linkText || entry.link);
      item.append(link);
    }
    if (entry.products && entry.products.length) {
      item.classList.add("sbw-wide");
      item.append(productCards(entry.products));
    }
    if (entry.buttons && entry.buttons.length) item.append(choiceButtons(entry, entry.buttons));
    if (entry.pending) item.classList.add("sbw-pending");
    return item;
  }

  function appendEntry(entry) {
    const item = renderEntry(entry);
    rendered.set(entry.id, item);
    log.append(item);
    log.scrollTop = log.scrollHeight;
  }

  function rerender(entry) {
    const old = rendered.get(entry.id);
    if (!old) return;
    const item = renderEntry(entry);
    rendered.set(entry.id, item);
    old.replaceWith(item);
  }

  function renderAll() {
    log.replaceChildren();
    rendered.clear();
    for (const entry of state.transcript) appendEntry(entry);
  }

  function addEntry(fields) {
    const entry = { id: state.nextId++, ...fields };
    state.transcript.push(entry);
    saveState();
    appendEntry(entry);
    return entry;
  }

  // Choices belong to the question they answer: gone once the visitor has said something.
  function retireChoices() {
    for (const entry of state.transcript) {
      if (entry.from === "bot" && entry.buttons && entry.buttons.length) {
        entry.buttons = [];
        rerender(entry);
      }
    }
  }

  function showStatus(text) {
    status.textContent = text || "";
    status.hidden = !text;
  }

  let typingTimer = null;
  function setTyping(on) {
    clearTimeout(typingTimer);
    typing.hidden = !on;
    if (on) typingTimer = setTimeout(() => setTyping(false), TYPING_TIMEOUT_MS);
  }

  // ---- what the bot sends ----

  function safeLink(url) {
    try {
      const parsed = new URL(String(url), location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (error) {
      return null;
    }
  }

  function customCards(message) {
    for (const candidate of [message, message.custom, message.data]) {
      if (candidate && candidate.type === "product_cards" && Array.isArray(candidate.products)) {
        return candidate.products.filter((p) => p && typeof p === "object" && p.name);
      }
    }
    return null;
  }

  function onBotMessage(message) {
    setTyping(false);
    if (!message || typeof message !== "object") return;
    const cards = customCards(message);
    if (cards) {
      // The same suggestions often arrive as buttons of the message before: the cards' own
      // "Tell me more" buttons replace them.
      const payloads = new Set(cards.map((c) => c.payload).filter(Boolean));
      const previous = state.transcript[state.transcript.length - 1];
      if (
        previous && previous.from === "bot" && previous.buttons && previous.buttons.length &&
        previous.buttons.every((b) => payloads.has(b.payload))
      ) {
        previous.buttons = [];
        rerender(previous);
      }
      addEntry({ from: "bot", products: cards });
      return;
    }
    const buttons = (message.quick_replies || message.buttons || [])
      .filter((b) => b && b.title !== undefined)
      .map((b) => ({ title: String(b.title), payload: String(b.payload ?? b.title) }));
    const fields = { from: "bot" };
    if (typeof message.text === "string" && message.text) fields.text = message.text;
    if (buttons.length) fields.buttons = buttons;
    const attachment = message.attachment;
    if (attachment && typeof attachment === "object") {
      const payload = attachment.payload || {};
      if (attachment.type === "image" && payload.src) {
        fields.link = safeLink(payload.src);
        fields.linkText = "Open image";
      } else if (attachment.type === "template" && payload.elements) {
        const elements = [].concat(payload.elements);
        const lines = elements.map((e) => [e.title, e.subtitle].filter(Boolean).join(" — "));
        fields.text = [fields.text, ...lines].filter(Boolean).join("\n");
      } else if (typeof attachment === "string" || payload.src || payload.url) {
        fields.link = safeLink(payload.src || payload.url || attachment);
        fields.linkText = "Open attachment";
      }
      if (!fields.link) delete fields.link;
    }
    if (fields.text || fields.buttons || fields.link) addEntry(fields);
  }

  // ---- the connection ----

  let socket = null;
  let confirmed = false; // the server has put this socket in the conversation's room
  const queue = []; // [payload, entry] sent once the session is confirmed

  function emitMessage(payload) {
    const message = { message: payload, session_id: state.sessionId };
    message[config.metadataKey] = state.token ? { token: state.token } : {};
    socket.emit("user_uttered", message);
  }

  function flush() {
    while (confirmed && queue.length) {
      const [payload, entry] = queue.shift();
      emitMessage(payload);
      if (entry && entry.pending) {
        delete entry.pending;
        delete entry.payload;
        rerender(entry);
      }
      setTyping(true);
    }
    saveState();
  }

  function connect() {
    if (typeof window.io !== "function") {
      showStatus("The chat is unavailable right now (its library did not load).");
      return;
    }
    confirmed = false;
    showStatus("Connecting…");
    const current = window.io(config.socketUrl, {
      path: config.socketPath,
      // Names this page's visit (not the customer) to a load balancer: behind nginx every
      // request of this socket goes to the replica that holds its session.
      query: { visitor: visitorId },
      reconnectionDelay: 1000,
      reconnectionDelayMax: 10000,
    });
    socket = current;
    current.on("connect", () => {
      if (socket !== current) return;
      showStatus("");
      current.emit("session_request", { session_id: state.sessionId });
    });
    current.on("session_confirm", (sessionId) => {
      if (socket !== current) return;
      const id = typeof sessionId === "string" ? sessionId : sessionId && sessionId.session_id;
      if (id && id !== state.sessionId) {
        state.sessionId = id;
        saveState();
      }
      confirmed = true;
      flush();
    });
    current.on("bot_uttered", (message) => {
      if (socket === current) onBotMessage(message);
    });
    current.on("disconnect", (reason) => {
      if (socket !== current) return;
      confirmed = false;
      setTyping(false);
      if (reason !== "io client disconnect") showStatus("Reconnecting…");
    });
    current.on("connect_error", () => {
      if (socket !== current) return;
      confirmed = false;
      showStatus("Can't reach the assistant — retrying…");
    });
  }

  function disconnect() {
    if (socket) {
      const old = socket;
      socket = null;
      old.removeAllListeners();
      old.disconnect();
    }
    confirmed = false;
  }

  // ---- what the visitor does ----

  function sendMessage(shown, payload) {
    const text = String(shown || "").trim();
    if (!text) return;
    retireChoices();
    const entry = addEntry({ from: "user", text, payload: payload || text, pending: true });
    queue.push([entry.payload, entry]);
    if (!socket) connect();
    flush();
    input.focus();
  }

  function isOpen() {
    return !panel.hidden;
  }

  function open() {
    if (!socket) connect();
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    root.classList.add("sbw-open");
    rememberOpen(true);
    log.scrollTop = log.scrollHeight;
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    root.classList.remove("sbw-open");
    rememberOpen(false);
    launcher.focus();
  }

  function rememberOpen(value) {
    try {
      sessionStorage.setItem(`${config.storageKey}:open`, value ? "1" : "0");
    } catch (error) {
      /* not essential */
    }
  }

  function wasOpen() {
    try {
      return sessionStorage.getItem(`${config.storageKey}:open`) === "1";
    } catch (error) {
      return false;
    }
  }

  // A new conversation, optionally as someone else (a token from a login), on a new socket.
  function reset(token) {
    disconnect();
    queue.length = 0;
    setTyping(false);
    state = {
      sessionId: null,
      token: token === undefined ? state.token : token || "",
      transcript: [],
      nextId: 1,
    };
    saveState();
    renderAll();
    if (isOpen()) connect();
  }

  launcher.addEventListener("click", () => (isOpen() ? close() : open()));
  closeButton.addEventListener("click", close);
  restart.addEventListener("click", () => {
    reset();
    input.focus();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    sendMessage(text);
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });

  function mount() {
    document.body.append(root);
    renderAll();
    // Messages typed but never sent (the page closed first) go out on the next connection.
    for (const entry of state.transcript) {
      if (entry.pending) queue.push([entry.payload || entry.text, entry]);
    }
    if (wasOpen() || queue.length) open();
  }

  window.SupportbotWidget = {
    open,
    close,
    send: (text) => sendMessage(text),
    setToken: (token) => reset(token || ""),
    reset: () => reset(),
    transcript: () => JSON.parse(JSON.stringify(state.transcript)),
    get sessionId() {
      return state.sessionId;
    },
    get connected() {
      return confirmed;
    },
  };

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
