/*! Recordpass widget loader. Defines <recordpass-request site="…" [verifier="…"] [lang="en|es"] [view="status"]>.
 *  Embed: <script async src="https://VERIFIER/widget.js" integrity="sha384-…" crossorigin="anonymous"></script>
 *  It loads the form's code with Subresource Integrity, renders it in each element's shadow root, and
 *  never throws into the host page: if anything fails, the element explains how else to ask. */
(() => {
  "use strict";

  const TAG = "recordpass-request";
  if (!window.customElements || window.customElements.get(TAG)) return; // unsupported, or loaded twice

  // Filled in by `cargo xtask build`; paths are relative to this file's URL.
  const GLUE = "__RECORDPASS_GLUE__";
  const GLUE_INTEGRITY = "__RECORDPASS_GLUE_INTEGRITY__";
  const WASM = "__RECORDPASS_WASM__";
  const WASM_INTEGRITY = "__RECORDPASS_WASM_INTEGRITY__";

  const TEXT = {
    en: {
      loading: "Loading the records request form…",
      failed:
        "The online form to request your medical records could not load. Please call the hospital's " +
        "medical records department, or ask them about other ways to request your records.",
    },
    es: {
      loading: "Cargando el formulario para solicitar registros…",
      failed:
        "No se pudo cargar el formulario para solicitar sus registros médicos por internet. Llame al " +
        "departamento de registros médicos del hospital o pregunte por otras formas de solicitarlos.",
    },
  };

  // Captured now: document.currentScript is only set while this script first runs.
  const script = document.currentScript;
  const loaderUrl = script && script.src ? new URL(script.src, document.baseURI) : null;

  // The space the form's first step takes, reserved before the wasm arrives so the host page does not
  // move when the form replaces the loading text (docs/embedding.md, "Space on the page"). An upper
  // bound of the first step's height: constant from about 40em wide (the form's maximum width), growing
  // as the element narrows. `--recordpass-min-height` overrides it. The widget keeps this sheet.
  const RESERVE =
    ":host{display:block;min-block-size:var(--recordpass-min-height,max(24em,calc(45em - 48cqi)))}" +
    ":host([hidden]){display:none}";
  let reserve; // the constructed stylesheet, shared by every element

  /** Adopts the reservation into `root`, once; skipped where stylesheets cannot be constructed. */
  function reserveSpace(root) {
    try {
      if (!("adoptedStyleSheets" in root)) return;
      if (!reserve) {
        reserve = new CSSStyleSheet();
        reserve.replaceSync(RESERVE);
      }
      if (root.adoptedStyleSheets.indexOf(reserve) < 0) root.adoptedStyleSheets = [reserve].concat(root.adoptedStyleSheets);
    } catch (e) {
      // Old browsers: the page may move once when the form appears.
    }
  }

  let ready; // Promise of the initialised module, shared by every element.
  const mounted = new WeakSet();

  function load() {
    if (!ready) {
      ready = new Promise((resolve) => {
        if (!loaderUrl) throw new Error("widget.js must be included with <script src>");
        const sri = /^sha(256|384|512)-/;
        if (!sri.test(GLUE_INTEGRITY) || !sri.test(WASM_INTEGRITY) || GLUE.indexOf("__RECORDPASS_") === 0) {
          throw new Error("this widget.js was not built (run `cargo xtask build`)");
        }
        // Start downloading the wasm while the glue loads.
        const wasm = fetch(new URL(WASM, loaderUrl).href, {
          integrity: WASM_INTEGRITY,
          mode: "cors",
          credentials: "omit",
        }).then((response) => {
          if (!response.ok) throw new Error(`could not load ${response.url} (HTTP ${response.status})`);
          return response;
        });
        wasm.catch(() => {}); // reported below, through `ready`
        resolve(
          injectGlue().then(() => {
            // The no-modules glue declares a global `recordpassWidget` binding.
            const widget = recordpassWidget; // eslint-disable-line no-undef
            return widget({ module_or_path: wasm }).then(() => widget);
          })
        );
      });
    }
    return ready;
  }

  let policy; // the Trusted Types policy, where the page has Trusted Types

  /** The glue's URL for `script.src`: a TrustedScriptURL from the "recordpass" policy, which passes
   *  that one URL and nothing else, where the page enforces Trusted Types (`require-trusted-types-for
   *  'script'`, with `trusted-types recordpass` allowed: docs/embedding.md); a plain string elsewhere. */
  function glueUrl() {
    const url = new URL(GLUE, loaderUrl).href;
    const tt = window.trustedTypes;
    if (!tt || typeof tt.createPolicy !== "function") return url;
    policy =
      policy ||
      tt.createPolicy("recordpass", {
        createScriptURL: (u) => {
          if (u === url) return u;
          throw new TypeError("recordpass: only the widget's own code may load");
        },
      });
    return policy.createScriptURL(url);
  }

  function injectGlue() {
    return new Promise((resolve, reject) => {
      const glue = document.createElement("script");
      glue.src = glueUrl();
      glue.integrity = GLUE_INTEGRITY;
      glue.crossOrigin = "anonymous";
      glue.async = true;
      glue.onload = () =>
        typeof recordpassWidget === "function" // eslint-disable-line no-undef
          ? resolve()
          : reject(new Error("the widget code did not load"));
      glue.onerror = () => reject(new Error(`could not load ${glue.src}`));
      (document.head || document.documentElement).appendChild(glue);
    });
  }

  function langOf(el) {
    return el.getAttribute("lang") || document.documentElement.lang || navigator.language || "en";
  }

  /** Replaces the element's shadow content with one paragraph of plain text; a failure also shows
   *  what the page put inside the element (the snippet's phone line) through a slot. */
  function say(el, key, role) {
    try {
      const lang = /^es\b/i.test(langOf(el)) ? "es" : "en";
      const root = el.shadowRoot || el.attachShadow({ mode: "open" });
      reserveSpace(root);
      const p = document.createElement("p");
      p.lang = lang;
      p.setAttribute("role", role);
      p.textContent = TEXT[lang][key];
      while (root.firstChild) root.removeChild(root.firstChild);
      root.appendChild(p);
      if (key === "failed") root.appendChild(document.createElement("slot"));
    } catch (e) {
      // A closed shadow root from someone else: leave the element alone.
    }
  }

  class RecordpassRequest extends HTMLElement {
    connectedCallback() {
      if (mounted.has(this)) return; // moved within the page: keep the running form
      mounted.add(this);
      say(this, "loading", "status");
      load()
        .then((widget) =>
          widget.mount(this, {
            verifier: this.getAttribute("verifier") || (loaderUrl ? loaderUrl.origin : ""),
            site: this.getAttribute("site") || "",
            lang: langOf(this),
            view: this.getAttribute("view") || "",
          })
        )
        .catch((error) => {
          console.error("Recordpass: the records request form could not load.", error);
          say(this, "failed", "alert");
        });
    }
  }

  try {
    window.customElements.define(TAG, RecordpassRequest);
  } catch (error) {
    console.error("Recordpass: could not define <recordpass-request>.", error);
  }
})();
