/* Block Kit, drawn: blocks and elements as Slack documents them
 * (https://docs.slack.dev/reference/block-kit/blocks, …/block-elements).
 *
 *   BlockKit.render(blocks, ctx) -> element
 *
 * ctx: surface ("message", "modal", "home"), me, tz, locale, people, channels, channelId,
 *      act(action)                      a block_actions action, in Slack's shape
 *      suggest(blockId, actionId, text) -> Promise of {options} or {option_groups}
 *      values                           a Map the stateful elements register with
 *      carry(blockId, actionId)         the person's earlier input, kept across a view update
 *      errors                           {block_id: message} under input blocks
 *      ui                               popovers and dialogs (app.js)
 *
 * A block or element this file cannot draw is a visible placeholder naming its type; nothing
 * is ever dropped silently.
 */
(function () {
  "use strict";

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function placeholder(kind, type, extra) {
    const node = el("div", "bk-unsupported");
    node.dataset.type = type;
    node.textContent = `[${kind} “${type}”: the playground cannot draw this yet${extra ? " — " + extra : ""}]`;
    return node;
  }

  /* --- text objects -------------------------------------------------------------------- */

  function text(obj, ctx) {
    const span = el("span", "bk-text");
    if (!obj) return span;
    if (typeof obj === "string") {
      span.appendChild(Mrkdwn.render(obj, ctx));
    } else if (obj.type === "mrkdwn") {
      span.classList.add("mrkdwn");
      span.appendChild(obj.verbatim ? Mrkdwn.plain(obj.text, false) : Mrkdwn.render(obj.text, ctx));
    } else {
      span.appendChild(Mrkdwn.plain(obj.text, obj.emoji));
    }
    return span;
  }

  function label(obj) {
    return obj ? Mrkdwn.emojify(String(obj.text || "")) : "";
  }

  /* --- blocks -------------------------------------------------------------------------------- */

  const BLOCKS = {
    section(block, ctx) {
      const node = el("div", "bk-section");
      const body = el("div", "bk-section-body");
      if (block.text) body.appendChild(el("div", "bk-section-text")).appendChild(text(block.text, ctx));
      if (block.fields) {
        const grid = body.appendChild(el("div", "bk-fields"));
        block.fields.forEach((f) => grid.appendChild(el("div", "bk-field")).appendChild(text(f, ctx)));
      }
      node.appendChild(body);
      if (block.accessory) {
        const acc = el("div", "bk-accessory");
        acc.appendChild(element(block.accessory, block, ctx, "accessory"));
        node.appendChild(acc);
      }
      return node;
    },
    divider() {
      return el("hr", "bk-divider");
    },
    header(block) {
      return el("div", "bk-header", label(block.text));
    },
    context(block, ctx) {
      const node = el("div", "bk-context");
      (block.elements || []).forEach((e) => {
        if (e.type === "image") {
          const img = node.appendChild(el("img", "bk-context-image"));
          img.src = e.image_url || "";
          img.alt = e.alt_text || "";
          img.title = e.alt_text || "";
        } else if (e.type === "plain_text" || e.type === "mrkdwn") {
          node.appendChild(text(e, ctx));
        } else {
          node.appendChild(placeholder("element", e.type));
        }
      });
      return node;
    },
    image(block, ctx) {
      const node = el("figure", "bk-image");
      if (block.title) node.appendChild(el("figcaption", "bk-image-title", label(block.title)));
      if (block.image_url) {
        const img = node.appendChild(el("img"));
        img.src = block.image_url;
        img.alt = block.alt_text || "";
      } else {
        node.appendChild(placeholder("image", "slack_file", block.alt_text));
      }
      return node;
    },
    actions(block, ctx) {
      const node = el("div", "bk-actions");
      (block.elements || []).forEach((e) => node.appendChild(element(e, block, ctx, "actions")));
      return node;
    },
    input(block, ctx) {
      const node = el("div", "bk-input");
      node.dataset.blockId = block.block_id;
      const head = node.appendChild(el("label", "bk-label"));
      head.appendChild(document.createTextNode(label(block.label)));
      if (block.optional) {
        head.appendChild(document.createTextNode(" "));
        head.appendChild(el("span", "bk-optional", ctx.words.optional));
      }
      node.appendChild(element(block.element || {}, block, ctx, "input"));
      if (block.hint) node.appendChild(el("div", "bk-hint", label(block.hint)));
      const error = ctx.errors && ctx.errors[block.block_id];
      if (error) {
        node.classList.add("has-error");
        node.appendChild(el("div", "bk-error", error));
      }
      return node;
    },
    rich_text(block, ctx) {
      const node = el("div", "bk-rich-text");
      (block.elements || []).forEach((e) => node.appendChild(richElement(e, ctx)));
      return node;
    },
    video(block) {
      const node = el("div", "bk-video");
      if (block.thumbnail_url) {
        const img = node.appendChild(el("img"));
        img.src = block.thumbnail_url;
        img.alt = block.alt_text || "";
      }
      const a = node.appendChild(el("a", "link", label(block.title) || block.video_url));
      a.href = block.title_url || block.video_url || "#";
      a.target = "_blank";
      if (block.description) node.appendChild(el("div", "bk-hint", label(block.description)));
      return node;
    },
    markdown(block, ctx) {
      const node = el("div", "bk-markdown");
      // Standard markdown, read the way mrkdwn reads its overlap: **bold**, *italic*, links.
      const converted = String(block.text || "")
        .replace(/\*\*(.+?)\*\*/g, "\u0001$1\u0001")
        .replace(/(^|\s)\*(\S.*?)\*/g, "$1_$2_")
        .replace(/\u0001/g, "*")
        .replace(/\[([^\]]+)\]\((https?:[^)]+)\)/g, "<$2|$1>")
        .replace(/^#{1,6}\s+(.*)$/gm, "*$1*");
      node.appendChild(Mrkdwn.render(converted, ctx));
      return node;
    },
  };

  function richElement(e, ctx) {
    switch (e.type) {
      case "rich_text_section": {
        const span = el("div", "rt-section");
        (e.elements || []).forEach((x) => span.appendChild(richInline(x, ctx)));
        return span;
      }
      case "rich_text_list": {
        const list = el(e.style === "ordered" ? "ol" : "ul", "rt-list");
        list.style.marginLeft = `${(e.indent || 0) * 1.2}em`;
        (e.elements || []).forEach((x) => list.appendChild(el("li")).appendChild(richElement(x, ctx)));
        return list;
      }
      case "rich_text_quote": {
        const q = el("blockquote", "quote");
        (e.elements || []).forEach((x) => q.appendChild(richInline(x, ctx)));
        return q;
      }
      case "rich_text_preformatted": {
        const pre = el("pre", "code-block");
        (e.elements || []).forEach((x) => pre.appendChild(richInline(x, ctx)));
        return pre;
      }
      default:
        return placeholder("rich text element", e.type);
    }
  }

  function richInline(x, ctx) {
    let node;
    switch (x.type) {
      case "text":
        node = document.createTextNode(x.text || "");
        break;
      case "link":
        node = el("a", "link", x.text || x.url);
        node.href = x.url;
        node.target = "_blank";
        break;
      case "user":
        return Mrkdwn.render(`<@${x.user_id}>`, ctx);
      case "channel":
        return Mrkdwn.render(`<#${x.channel_id}>`, ctx);
      case "usergroup":
        return el("span", "mention", "@" + x.usergroup_id);
      case "broadcast":
        return el("span", "mention mention-me", "@" + x.range);
      case "emoji":
        return document.createTextNode(x.unicode ? String.fromCodePoint(...x.unicode.split("-").map((h) => parseInt(h, 16)))
          : Mrkdwn.emojify(`:${x.name}:`));
      case "date":
        return Mrkdwn.render(`<!date^${x.timestamp}^${x.format}|${x.fallback || ""}>`, ctx);
      default:
        return placeholder("rich text element", x.type);
    }
    const style = x.style || {};
    for (const [key, tag] of [["code", "code"], ["strike", "s"], ["italic", "i"], ["bold", "b"]]) {
      if (style[key]) {
        const wrap = el(tag, key === "code" ? "inline-code" : "");
        wrap.appendChild(node);
        node = wrap;
      }
    }
    return node;
  }

  /* --- elements ------------------------------------------------------------------------------ */

  // Elements that tell the app at once where they stand; in an input block they wait for the
  // modal's submission unless the block asks for dispatch_action.
  function dispatches(block, where) {
    return where !== "input" || block.dispatch_action === true;
  }

  function register(ctx, block, e, get, extra) {
    if (!ctx.values || !e.action_id) return;
    ctx.values.set(`${block.block_id}\u0000${e.action_id}`, {
      blockId: block.block_id, actionId: e.action_id, type: e.type, get,
      required: block.type === "input" && !block.optional, ...(extra || {}),
    });
  }

  function carried(ctx, block, e) {
    return ctx.carry ? ctx.carry(block.block_id, e.action_id, e.type) : undefined;
  }

  function base(e, block) {
    return { type: e.type, action_id: e.action_id, block_id: block.block_id };
  }

  function send(ctx, e, action, confirmObj) {
    const go = () => ctx.act(action);
    if (confirmObj) ctx.ui.confirm(confirmObj, ctx, go);
    else go();
  }

  const ELEMENTS = {
    button(e, block, ctx) {
      const b = el("button", "bk-button" + (e.style ? " " + e.style : ""));
      b.type = "button";
      b.textContent = label(e.text);
      if (e.accessibility_label) b.setAttribute("aria-label", e.accessibility_label);
      b.addEventListener("click", () => {
        const action = { ...base(e, block), text: e.text, value: e.value };
        if (e.style) action.style = e.style;
        const go = () => {
          if (e.url) window.open(e.url, "_blank", "noopener");
          b.classList.add("busy");
          setTimeout(() => b.classList.remove("busy"), 800);
          ctx.act(action);
        };
        if (e.confirm) ctx.ui.confirm(e.confirm, ctx, go);
        else go();
      });
      return b;
    },

    overflow(e, block, ctx) {
      const b = el("button", "bk-overflow", "⋯");
      b.type = "button";
      b.title = "More options";
      b.addEventListener("click", () => {
        ctx.ui.menu(b, (e.options || []).map((o) => ({
          label: label(o.text),
          description: o.description ? label(o.description) : null,
          pick: () => {
            if (o.url) window.open(o.url, "_blank", "noopener");
            send(ctx, e, { ...base(e, block), selected_option: o }, e.confirm);
          },
        })));
      });
      return b;
    },

    static_select: selectElement,
    external_select: selectElement,
    users_select: selectElement,
    conversations_select: selectElement,
    channels_select: selectElement,
    multi_static_select: selectElement,
    multi_external_select: selectElement,
    multi_users_select: selectElement,
    multi_conversations_select: selectElement,
    multi_channels_select: selectElement,

    datepicker(e, block, ctx, where) {
      const input = el("input", "bk-datepicker");
      input.type = "date";
      const prior = carried(ctx, block, e);
      input.value = (prior !== undefined ? prior.selected_date : e.initial_date) || "";
      if (e.placeholder) input.title = label(e.placeholder);
      register(ctx, block, e, () => ({ type: e.type, selected_date: input.value || null }));
      input.addEventListener("change", () => {
        if (dispatches(block, where) && input.value) {
          send(ctx, e, { ...base(e, block), selected_date: input.value, initial_date: e.initial_date }, e.confirm);
        }
      });
      return wrap(input, e.placeholder && !input.value ? label(e.placeholder) : null);
    },

    timepicker(e, block, ctx, where) {
      const input = el("input", "bk-timepicker");
      input.type = "time";
      const prior = carried(ctx, block, e);
      input.value = (prior !== undefined ? prior.selected_time : e.initial_time) || "";
      register(ctx, block, e, () => ({ type: e.type, selected_time: input.value || null }));
      input.addEventListener("change", () => {
        if (dispatches(block, where) && input.value) {
          send(ctx, e, { ...base(e, block), selected_time: input.value, initial_time: e.initial_time }, e.confirm);
        }
      });
      return input;
    },

    datetimepicker(e, block, ctx, where) {
      const box = el("span", "bk-datetimepicker");
      const date = box.appendChild(el("input"));
      date.type = "date";
      const time = box.appendChild(el("input"));
      time.type = "time";
      const prior = carried(ctx, block, e);
      const epoch = prior !== undefined ? prior.selected_date_time : e.initial_date_time;
      if (epoch) {
        const local = localParts(epoch, ctx.tz);
        date.value = local.date;
        time.value = local.time;
      }
      const value = () => (date.value && time.value ? epochOf(date.value, time.value, ctx.tz) : null);
      register(ctx, block, e, () => ({ type: e.type, selected_date_time: value() }));
      const changed = () => {
        if (dispatches(block, where) && value() !== null) {
          send(ctx, e, { ...base(e, block), selected_date_time: value() }, e.confirm);
        }
      };
      date.addEventListener("change", changed);
      time.addEventListener("change", changed);
      box.title = `${ctx.tz}`;
      return box;
    },

    radio_buttons(e, block, ctx, where) {
      return choices(e, block, ctx, where, "radio");
    },

    checkboxes(e, block, ctx, where) {
      return choices(e, block, ctx, where, "checkbox");
    },

    plain_text_input(e, block, ctx, where) {
      const input = el(e.multiline ? "textarea" : "input", "bk-text-input");
      if (!e.multiline) input.type = "text";
      if (e.multiline) input.rows = 3;
      if (e.placeholder) input.placeholder = label(e.placeholder);
      if (e.max_length) input.maxLength = e.max_length;
      const prior = carried(ctx, block, e);
      input.value = (prior !== undefined ? prior.value : e.initial_value) || "";
      if (e.focus_on_load) setTimeout(() => input.focus(), 0);
      register(ctx, block, e, () => ({ type: e.type, value: input.value === "" ? null : input.value }), {
        validate: () => {
          if (e.min_length && input.value && input.value.length < e.min_length) {
            return ctx.words.minLength.replace("{n}", e.min_length);
          }
          return null;
        },
      });
      if (dispatches(block, where)) {
        const triggers = (e.dispatch_action_config || {}).trigger_actions_on || ["on_enter_pressed"];
        const fire = () => send(ctx, e, { ...base(e, block), value: input.value }, null);
        if (triggers.includes("on_enter_pressed")) {
          input.addEventListener("keydown", (ev) => {
            if (ev.key === "Enter" && !ev.shiftKey) {
              ev.preventDefault();
              fire();
            }
          });
        }
        if (triggers.includes("on_character_entered")) {
          let timer = null;
          input.addEventListener("input", () => {
            clearTimeout(timer);
            timer = setTimeout(fire, 400);
          });
        }
      }
      return input;
    },

    number_input(e, block, ctx, where) {
      const input = typedInput(e, block, ctx, where, "number");
      input.step = e.is_decimal_allowed ? "any" : "1";
      if (e.min_value !== undefined) input.min = e.min_value;
      if (e.max_value !== undefined) input.max = e.max_value;
      const entry = ctx.values && ctx.values.get(`${block.block_id}\u0000${e.action_id}`);
      if (entry) {
        entry.validate = () => {
          if (input.value === "") return null;
          const n = Number(input.value);
          if (!Number.isFinite(n) || (!e.is_decimal_allowed && !Number.isInteger(n))) return ctx.words.number;
          if (e.min_value !== undefined && n < Number(e.min_value)) return ctx.words.atLeast.replace("{n}", e.min_value);
          if (e.max_value !== undefined && n > Number(e.max_value)) return ctx.words.atMost.replace("{n}", e.max_value);
          return null;
        };
      }
      return input;
    },

    email_text_input(e, block, ctx, where) {
      return typedInput(e, block, ctx, where, "email");
    },

    url_text_input(e, block, ctx, where) {
      return typedInput(e, block, ctx, where, "url");
    },

    rich_text_input(e, block, ctx) {
      const input = el("textarea", "bk-text-input");
      input.rows = 3;
      if (e.placeholder) input.placeholder = label(e.placeholder);
      const prior = carried(ctx, block, e);
      input.value = prior !== undefined ? richToText(prior.rich_text_value) : richToText(e.initial_value);
      register(ctx, block, e, () => ({
        type: e.type,
        rich_text_value: {
          type: "rich_text",
          elements: [{ type: "rich_text_section", elements: input.value ? [{ type: "text", text: input.value }] : [] }],
        },
      }));
      return input;
    },

    image(e) {
      const img = el("img", "bk-accessory-image");
      img.src = e.image_url || "";
      img.alt = e.alt_text || "";
      img.title = e.alt_text || "";
      return img;
    },
  };

  function richToText(value) {
    if (!value) return "";
    const out = [];
    const walk = (node) => {
      if (!node) return;
      if (node.type === "text" || node.type === "link") out.push(node.text || node.url || "");
      (node.elements || []).forEach(walk);
    };
    walk(value);
    return out.join("");
  }

  function typedInput(e, block, ctx, where, type) {
    const input = el("input", "bk-text-input");
    input.type = type;
    if (e.placeholder) input.placeholder = label(e.placeholder);
    const prior = carried(ctx, block, e);
    input.value = (prior !== undefined ? prior.value : e.initial_value) || "";
    register(ctx, block, e, () => ({ type: e.type, value: input.value === "" ? null : input.value }), {
      validate: () => (input.value && !input.checkValidity() ? ctx.words.invalid : null),
    });
    if (dispatches(block, where)) {
      input.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") send(ctx, e, { ...base(e, block), value: input.value }, null);
      });
    }
    return input;
  }

  function wrap(input, hint) {
    if (!hint) return input;
    const box = el("span", "bk-with-placeholder");
    box.appendChild(input);
    box.title = hint;
    return box;
  }

  function choices(e, block, ctx, where, kind) {
    const box = el("div", `bk-${kind === "radio" ? "radio" : "checkboxes"}`);
    const name = `${block.block_id}-${e.action_id}-${Math.random().toString(36).slice(2)}`;
    const prior = carried(ctx, block, e);
    const chosen = new Set();
    if (prior !== undefined) {
      if (kind === "radio" && prior.selected_option) chosen.add(prior.selected_option.value);
      if (kind === "checkbox") (prior.selected_options || []).forEach((o) => chosen.add(o.value));
    } else if (kind === "radio" && e.initial_option) {
      chosen.add(e.initial_option.value);
    } else if (kind === "checkbox") {
      (e.initial_options || []).forEach((o) => chosen.add(o.value));
    }
    const inputs = [];
    (e.options || []).forEach((o) => {
      const row = box.appendChild(el("label", "bk-choice"));
      const input = row.appendChild(el("input"));
      input.type = kind;
      input.name = name;
      input.value = o.value;
      input.checked = chosen.has(o.value);
      inputs.push([input, o]);
      const words = row.appendChild(el("span", "bk-choice-text"));
      words.appendChild(text(o.text, ctx));
      if (o.description) words.appendChild(el("div", "bk-hint")).appendChild(text(o.description, ctx));
      input.addEventListener("change", () => {
        if (!dispatches(block, where)) return;
        const action = { ...base(e, block) };
        if (kind === "radio") action.selected_option = o;
        else action.selected_options = inputs.filter(([i]) => i.checked).map(([, opt]) => opt);
        send(ctx, e, action, e.confirm);
      });
    });
    register(ctx, block, e, () => {
      const picked = inputs.filter(([i]) => i.checked).map(([, o]) => o);
      return kind === "radio" ? { type: e.type, selected_option: picked[0] || null }
        : { type: e.type, selected_options: picked };
    });
    return box;
  }

  /* --- select menus: one widget for static, external, users, conversations, channels, multi - */

  function optionsOf(e) {
    if (e.option_groups) return e.option_groups.flatMap((g) => g.options || []);
    return e.options || [];
  }

  function selectElement(e, block, ctx, where) {
    const multi = e.type.startsWith("multi_");
    const kind = e.type.replace(/^multi_/, "").replace(/_select$/, "");  // static, external, users, conversations, channels
    const field = {
      static: ["selected_option", "initial_option"], external: ["selected_option", "initial_option"],
      users: ["selected_user", "initial_user"], conversations: ["selected_conversation", "initial_conversation"],
      channels: ["selected_channel", "initial_channel"],
    }[kind];
    const plural = (name) => name.replace(/_option$/, "_options").replace(/_user$/, "_users")
      .replace(/_conversation$/, "_conversations").replace(/_channel$/, "_channels");
    const stateKey = multi ? plural(field[0]) : field[0];
    const initialKey = multi ? plural(field[1]) : field[1];

    // The choice is kept as items {value (option object or id), text}.
    const describe = (value) => {
      if (value === null || value === undefined) return null;
      if (kind === "static" || kind === "external") return { value, text: label(value.text) };
      if (kind === "users") {
        const p = ctx.people.find((x) => x.id === value);
        return { value, text: p ? p.real_name : value, person: p };
      }
      const c = ctx.channels.find((x) => x.id === value);
      return { value, text: c ? "#" + c.name : value };
    };
    const prior = carried(ctx, block, e);
    let initial = prior !== undefined ? prior[stateKey] : e[initialKey];
    if (initial === undefined && e.default_to_current_conversation && ctx.channelId && kind !== "users") {
      initial = multi ? [ctx.channelId] : ctx.channelId;
    }
    let chosen = multi ? (initial || []).map(describe).filter(Boolean) : [describe(initial)].filter(Boolean);

    const box = el("div", "bk-select" + (multi ? " multi" : ""));
    box.dataset.type = e.type;
    const trigger = box.appendChild(el("button", "bk-select-trigger"));
    trigger.type = "button";
    const draw = () => {
      trigger.textContent = "";
      if (!chosen.length) {
        trigger.appendChild(el("span", "bk-select-placeholder", e.placeholder ? label(e.placeholder) : ctx.words.select));
      } else if (multi) {
        chosen.forEach((item) => {
          const chip = trigger.appendChild(el("span", "bk-chip", item.text));
          const x = chip.appendChild(el("span", "bk-chip-x", "×"));
          x.addEventListener("click", (ev) => {
            ev.stopPropagation();
            chosen = chosen.filter((c) => c !== item);
            draw();
            changed();
          });
        });
      } else {
        trigger.appendChild(el("span", "bk-select-value", chosen[0].text));
      }
      trigger.appendChild(el("span", "bk-caret", "▾"));
    };
    const state = () => {
      const values = chosen.map((c) => c.value);
      return { type: e.type, [stateKey]: multi ? values : (values[0] === undefined ? null : values[0]) };
    };
    const changed = () => {
      if (!dispatches(block, where)) return;
      send(ctx, e, { ...base(e, block), ...state() }, e.confirm);
    };
    register(ctx, block, e, state);

    const minQuery = kind === "external" ? (e.min_query_length === undefined ? 3 : e.min_query_length) : 0;
    const source = async (query) => {
      const q = query.trim().toLowerCase();
      if (kind === "static") {
        const groups = e.option_groups
          ? e.option_groups.map((g) => ({ label: label(g.label), options: g.options || [] }))
          : [{ label: null, options: e.options || [] }];
        return groups.map((g) => ({
          label: g.label,
          items: g.options.filter((o) => !q || label(o.text).toLowerCase().includes(q)).map(describe),
        }));
      }
      if (kind === "external") {
        if (query.length < minQuery) return { note: ctx.words.typeMore.replace("{n}", minQuery) };
        const answer = await ctx.suggest(block.block_id, e.action_id, query);
        if (answer.option_groups) {
          return answer.option_groups.map((g) => ({ label: label(g.label), items: (g.options || []).map(describe) }));
        }
        return [{ label: null, items: (answer.options || []).map(describe) }];
      }
      if (kind === "users") {
        return [{ label: null, items: ctx.people
          .filter((p) => !q || p.real_name.toLowerCase().includes(q) || p.name.includes(q))
          .map((p) => describe(p.id)) }];
      }
      return [{ label: null, items: ctx.channels.filter((c) => !q || c.name.includes(q)).map((c) => describe(c.id)) }];
    };

    trigger.addEventListener("click", () => {
      ctx.ui.picker(box, {
        source,
        searchFirst: kind === "external",
        placeholder: kind === "external" ? ctx.words.typeToSearch : ctx.words.search,
        isChosen: (item) => chosen.some((c) => sameValue(c.value, item.value)),
        pick: (item) => {
          if (multi) {
            if (chosen.some((c) => sameValue(c.value, item.value))) return false;
            if (e.max_selected_items && chosen.length >= e.max_selected_items) return false;
            chosen = [...chosen, item];
          } else {
            chosen = [item];
          }
          draw();
          changed();
          return !multi;
        },
      });
    });
    draw();
    return box;
  }

  function sameValue(a, b) {
    if (a && typeof a === "object") return b && typeof b === "object" && a.value === b.value;
    return a === b;
  }

  /* --- time zones: a datetimepicker shows and picks in the person's own zone ------------------ */

  function localParts(epoch, tz) {
    const p = {};
    new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(epoch * 1000))
      .forEach((x) => { p[x.type] = x.value; });
    return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
  }

  function epochOf(date, time, tz) {
    // The instant whose local date and time in `tz` are these: guess, then correct by the
    // zone's offset at the guess (twice, for the days the offset changes).
    const wanted = Date.parse(`${date}T${time}:00Z`);
    let guess = wanted;
    for (let i = 0; i < 2; i++) {
      const local = localParts(guess / 1000, tz);
      const seen = Date.parse(`${local.date}T${local.time}:00Z`);
      guess += wanted - seen;
    }
    return Math.round(guess / 1000);
  }

  /* --- the entry points ------------------------------------------------------------------------ */

  function element(e, block, ctx, where) {
    const draw = ELEMENTS[e && e.type];
    if (!draw) return placeholder("element", (e && e.type) || "?");
    const node = draw(e, block, ctx, where);
    if (node && node.dataset) {
      node.dataset.actionId = e.action_id || "";
      node.dataset.elementType = e.type;
    }
    return node;
  }

  function render(blocks, ctx) {
    const root = el("div", "bk-blocks");
    (blocks || []).forEach((block) => {
      const draw = BLOCKS[block && block.type];
      const node = draw ? draw(block, ctx) : placeholder("block", (block && block.type) || "?");
      node.classList.add("bk-block");
      if (block && block.block_id) node.dataset.blockId = block.block_id;
      root.appendChild(node);
    });
    return root;
  }

  /* state.values, as Slack sends it: {block_id: {action_id: {type, …}}} */
  function collect(values) {
    const out = {};
    values.forEach((entry) => {
      (out[entry.blockId] = out[entry.blockId] || {})[entry.actionId] = entry.get();
    });
    return out;
  }

  /* What Slack itself refuses before the app hears of it: an empty required input, a number
   * out of range, text shorter than min_length. {block_id: message}. */
  function validate(values, words) {
    const errors = {};
    values.forEach((entry) => {
      const state = entry.get();
      const empty = ["value", "selected_option", "selected_user", "selected_conversation", "selected_channel",
        "selected_date", "selected_time", "selected_date_time"].some((k) => k in state && (state[k] === null || state[k] === ""))
        || ["selected_options", "selected_users", "selected_conversations", "selected_channels"]
          .some((k) => k in state && !state[k].length)
        || ("rich_text_value" in state && !richToText(state.rich_text_value));
      if (entry.required && empty) errors[entry.blockId] = words.required;
      else if (entry.validate) {
        const problem = entry.validate();
        if (problem) errors[entry.blockId] = problem;
      }
    });
    return errors;
  }

  window.BlockKit = { render, collect, validate, text, label, epochOf, localParts };
})();
