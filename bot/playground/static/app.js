/* The playground's Slack client: a sidebar, conversations, the app's Home and Messages tabs,
 * modals, threads, a person switcher and the scheduler's clock.
 *
 * It asks the playground what changed (/play/changes, a long poll) and tells it what the
 * person did (/play/send, /play/action, /play/submit, …); the playground turns that into
 * requests signed as Slack signs them, and the bot's answers come back as changes.
 */
(function () {
  "use strict";

  const S = {
    boot: null,
    me: null,
    gen: 0,               // bumped when the person changes: older polls are ignored
    version: 0,
    messages: new Map(),  // "channel ts" -> message
    modals: [],
    home: null,
    clock: null,
    calls: [],
    seenNotices: new Set(),
    where: { kind: "channel", id: null, tab: "home" },
    thread: null,         // {channel, ts}
    side: null,           // "thread" | "log"
    read: {},             // channel -> ts read up to
    highlight: null,
  };

  const WORDS = {
    en: {
      optional: "(optional)", select: "Select an item", search: "Search", typeToSearch: "Type to search",
      typeMore: "Type at least {n} characters", noResults: "No results", required: "Please complete this required field.",
      invalid: "This doesn't look right.", number: "Enter a number.", atLeast: "Enter a number of at least {n}.",
      atMost: "Enter a number of at most {n}.", minLength: "Enter at least {n} characters.",
      onlyYou: "Only visible to you", dismiss: "Dismiss message", channels: "Channels", apps: "Apps",
      home: "Home", messagesTab: "Messages", about: "About", message: "Message", replies: "replies", reply: "reply",
      thread: "Thread", replyPlaceholder: "Reply…", moreActions: "More actions", replyInThread: "Reply in thread",
      copyLink: "Copy link", cancel: "Cancel", edited: "(edited)", today: "Today", actingAs: "Acting as",
      clock: "Scheduler clock", run: "Run the scheduler", asOf: "As of", runAt: "Run", running: "Running…",
      clockHelp: "The scheduler runs only when you ask, as of the instant you choose: reminders, digests and escalations then arrive in the DMs. The bot answers you as of the real time.",
      log: "Web API log", close: "Close", noHome: "Opening the Home tab…", download: "Download", app: "APP",
      jump: "Jump to message", shortcuts: "Message shortcuts", yourTime: "your time",
      workflows: "Workflow steps", runStep: "Run a workflow step",
      addReaction: "Add reaction", reacted: "{who} reacted with :{name}:",
      preset: { hour: "+1 hour", day: "+1 day", morning: "Next working morning", monday: "Next Monday 09:00" },
    },
    zh: {
      optional: "（可选）", select: "选择一项", search: "搜索", typeToSearch: "输入以搜索", typeMore: "至少输入 {n} 个字符",
      noResults: "无结果", required: "请填写此必填项。", invalid: "格式不正确。", number: "请输入数字。",
      atLeast: "请输入不小于 {n} 的数字。", atMost: "请输入不大于 {n} 的数字。", minLength: "请至少输入 {n} 个字符。",
      onlyYou: "仅对你可见", dismiss: "关闭消息", channels: "频道", apps: "应用", home: "主页", messagesTab: "消息",
      about: "关于", message: "发送消息到", replies: "条回复", reply: "条回复", thread: "话题", replyPlaceholder: "回复…",
      moreActions: "更多操作", replyInThread: "在话题中回复", copyLink: "复制链接", cancel: "取消", edited: "（已编辑）",
      today: "今天", actingAs: "当前身份", clock: "调度时钟", run: "运行调度", asOf: "截至", runAt: "运行", running: "运行中…",
      clockHelp: "调度只在你要求时运行，以你选择的时刻为准：提醒、每日摘要和升级随后出现在私信中。机器人回答你时使用真实时间。",
      log: "Web API 日志", close: "关闭", noHome: "正在打开主页…", download: "下载", app: "应用",
      jump: "跳到消息", shortcuts: "消息快捷方式", yourTime: "你的时间",
      workflows: "工作流程步骤", runStep: "运行工作流程步骤",
      addReaction: "添加表情回应", reacted: "{who} 用 :{name}: 回应了",
      preset: { hour: "+1 小时", day: "+1 天", morning: "下一个工作日早上", monday: "下周一 09:00" },
    },
  };

  /* --- small helpers ------------------------------------------------------------------------ */

  const $ = (sel, root) => (root || document).querySelector(sel);

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function person(id) {
    return S.boot.people.find((p) => p.id === id);
  }

  function me() {
    return person(S.me);
  }

  function words() {
    return WORDS[me().language] || WORDS.en;
  }

  function channel(id) {
    return S.boot.channels.find((c) => c.id === id);
  }

  function dmId(personId) {
    return "D" + personId.slice(1);
  }

  function tsNumber(ts) {
    return parseFloat(ts);
  }

  function localTime(ts) {
    return new Intl.DateTimeFormat(me().locale, { timeZone: me().tz, hour: "numeric", minute: "2-digit" })
      .format(new Date(tsNumber(ts) * 1000));
  }

  function localDay(ts) {
    return new Intl.DateTimeFormat(me().locale, { timeZone: me().tz, weekday: "long", month: "long", day: "numeric" })
      .format(new Date(tsNumber(ts) * 1000));
  }

  async function post(verb, body) {
    const response = await fetch("/play/" + verb, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ as: S.me, ...body }),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) toast(data.error || `HTTP ${response.status}`, "error");
    return data;
  }

  function toast(text, level) {
    const box = $("#toasts");
    const node = box.appendChild(el("div", "toast " + (level || "info"), text));
    setTimeout(() => node.remove(), level === "error" ? 12000 : 7000);
    node.addEventListener("click", () => node.remove());
  }

  function avatar(id, size) {
    const node = el("span", "avatar" + (size ? " " + size : ""));
    if (id === S.boot.bot.id) {
      node.classList.add("bot");
      node.textContent = "tb";
    } else if (id === "USLACKBOT") {
      node.classList.add("slackbot");
      node.textContent = "✱";
    } else {
      const p = person(id);
      const name = p ? p.real_name.replace(/^[^A-Za-z]*\s/, "") : id;
      node.textContent = (p ? name : "?").split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
      node.style.background = p ? p.color : "#888";
    }
    return node;
  }

  function authorName(id) {
    if (id === S.boot.bot.id) return S.boot.bot.name;
    if (id === "USLACKBOT") return "Slackbot";
    const p = person(id);
    return p ? p.real_name : id;
  }

  /* --- the Block Kit context for one surface ------------------------------------------------ */

  function blockContext(surface, where, extra) {
    const values = new Map();
    const ctx = {
      surface, values, where,
      me: S.me, tz: me().tz, locale: me().locale,
      people: S.boot.people, channels: S.boot.channels,
      channelId: where.channel || null,
      words: words(),
      person, channel,
      ui: UI,
      act: (action) => post("action", { where, action, values: BlockKit.collect(values) }),
      suggest: (blockId, actionId, value) =>
        post("suggest", { where, block_id: blockId, action_id: actionId, value, values: BlockKit.collect(values) }),
      ...(extra || {}),
    };
    return ctx;
  }

  /* --- popovers: menus, pickers, confirm dialogs -------------------------------------------- */

  const UI = {
    close() {
      $("#popover-layer").textContent = "";
    },

    place(pop, anchor) {
      const r = anchor.getBoundingClientRect();
      pop.style.left = Math.min(r.left, window.innerWidth - 340) + "px";
      const below = r.bottom + 4;
      if (below + 320 > window.innerHeight && r.top > 340) {
        pop.style.bottom = (window.innerHeight - r.top + 4) + "px";
      } else {
        pop.style.top = below + "px";
      }
    },

    menu(anchor, items) {
      UI.close();
      const pop = $("#popover-layer").appendChild(el("div", "popover menu"));
      items.forEach((item) => {
        const row = pop.appendChild(el("button", "menu-item" + (item.cls ? " " + item.cls : "")));
        row.type = "button";
        row.appendChild(el("span", "menu-label", item.label));
        if (item.description) row.appendChild(el("span", "menu-description", item.description));
        row.addEventListener("click", () => {
          UI.close();
          item.pick();
        });
      });
      UI.place(pop, anchor);
    },

    picker(anchor, spec) {
      UI.close();
      const pop = $("#popover-layer").appendChild(el("div", "popover picker"));
      const search = pop.appendChild(el("input", "picker-search"));
      search.type = "text";
      search.placeholder = spec.placeholder;
      const list = pop.appendChild(el("div", "picker-list"));
      let timer = null, asked = 0;
      const show = async () => {
        const mine = ++asked;
        const found = await spec.source(search.value);
        if (mine !== asked) return;
        list.textContent = "";
        if (found.note) {
          list.appendChild(el("div", "picker-note", found.note));
          return;
        }
        let count = 0;
        found.forEach((group) => {
          if (group.label && group.items.length) list.appendChild(el("div", "picker-group", group.label));
          group.items.forEach((item) => {
            count++;
            const row = list.appendChild(el("button", "bk-option" + (spec.isChosen(item) ? " chosen" : "")));
            row.type = "button";
            if (item.person) row.appendChild(avatar(item.person.id, "small"));
            row.appendChild(el("span", "", item.text));
            row.addEventListener("click", () => {
              if (spec.pick(item) !== false) UI.close();
              else show();
            });
          });
        });
        if (!count) list.appendChild(el("div", "picker-note", words().noResults));
      };
      search.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(show, 200);
      });
      search.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") {
          ev.preventDefault();
          const first = $(".bk-option", list);
          if (first) first.click();
        }
      });
      UI.place(pop, anchor);
      show();
      search.focus();
    },

    confirm(obj, ctx, go) {
      const layer = $("#modal-layer");
      const back = layer.appendChild(el("div", "confirm-backdrop"));
      const box = back.appendChild(el("div", "confirm"));
      box.setAttribute("role", "alertdialog");
      box.appendChild(el("div", "confirm-title", BlockKit.label(obj.title)));
      box.appendChild(el("div", "confirm-text")).appendChild(BlockKit.text(obj.text, ctx));
      const foot = box.appendChild(el("div", "confirm-foot"));
      const deny = foot.appendChild(el("button", "bk-button", BlockKit.label(obj.deny) || words().cancel));
      const ok = foot.appendChild(el("button", "bk-button " + (obj.style || "primary"), BlockKit.label(obj.confirm)));
      deny.type = ok.type = "button";
      deny.addEventListener("click", () => back.remove());
      ok.addEventListener("click", () => {
        back.remove();
        go();
      });
    },
  };

  document.addEventListener("mousedown", (ev) => {
    const layer = $("#popover-layer");
    if (layer.firstChild && !layer.contains(ev.target) && !ev.target.closest(".bk-select-trigger, .bk-overflow, .msg-more, #clock, #me")) {
      UI.close();
    }
  });
  document.addEventListener("keydown", (ev) => {
    if (ev.key !== "Escape") return;
    if ($("#popover-layer").firstChild) {
      UI.close();
    } else if ($(".confirm-backdrop")) {
      $(".confirm-backdrop").remove();
    } else if (S.modals.length) {
      // Esc closes the top view, as Cancel does.
      const top = S.modals[S.modals.length - 1];
      post("close", { view_id: top.id, values: modalDrawn ? BlockKit.collect(modalDrawn.ctx.values) : null });
    }
  });

  /* --- the top bar: who I am, the clock ------------------------------------------------------ */

  // The top bar and the sidebar are drawn again only when what they show changed, so that a
  // click never lands on a button that was just replaced.
  const drawnSigns = {};

  function changed(part, sign) {
    const text = JSON.stringify(sign);
    if (drawnSigns[part] === text) return false;
    drawnSigns[part] = text;
    return true;
  }

  function renderMe() {
    if (!changed("me", [S.me])) return;
    const box = $("#me");
    box.textContent = "";
    const b = box.appendChild(el("button", "me-button"));
    b.type = "button";
    b.appendChild(el("span", "me-label", words().actingAs));
    b.appendChild(avatar(S.me, "small"));
    b.appendChild(el("span", "me-name", me().real_name));
    b.appendChild(el("span", "bk-caret", "▾"));
    b.addEventListener("click", () => {
      UI.menu(b, S.boot.people.map((p) => ({
        label: p.real_name,
        description: `${p.role} · ${p.tz} · ${p.locale}`,
        cls: p.id === S.me ? "chosen" : "",
        pick: () => switchTo(p.id),
      })));
    });
  }

  function renderClock() {
    const box = $("#clock");
    const c = S.clock;
    if (!c || !changed("clock", [S.me, c])) return;
    const w = words();
    box.textContent = "";
    box.title = w.clockHelp + (c.last ? "\n\n" + c.last : "");
    box.appendChild(el("span", "clock-label", w.clock));
    const at = new Date(c.at);
    const fmt = (d) => new Intl.DateTimeFormat(me().locale, { timeZone: me().tz, weekday: "short", month: "short",
      day: "numeric", hour: "2-digit", minute: "2-digit" }).format(d);
    box.appendChild(el("span", "clock-time", fmt(at)));
    const run = box.appendChild(el("button", "clock-run", c.running ? w.running : w.run + " ▾"));
    run.type = "button";
    run.disabled = c.running;
    run.addEventListener("click", () => {
      UI.close();
      const pop = $("#popover-layer").appendChild(el("div", "popover menu clock-menu"));
      c.presets.forEach((p) => {
        const row = pop.appendChild(el("button", "menu-item"));
        row.type = "button";
        row.dataset.preset = p.id;
        row.appendChild(el("span", "menu-label", w.preset[p.id] || p.label));
        row.appendChild(el("span", "menu-description", fmt(new Date(p.at))));
        row.addEventListener("click", () => runClock({ preset: p.id }));
      });
      const custom = pop.appendChild(el("div", "clock-custom"));
      custom.appendChild(el("span", "", w.asOf));
      const input = custom.appendChild(el("input"));
      input.type = "datetime-local";
      const next = BlockKit.localParts(Date.parse(c.at) / 1000 + 3600, me().tz);
      input.value = `${next.date}T${next.time}`;
      const go = custom.appendChild(el("button", "bk-button primary", w.runAt));
      go.type = "button";
      go.addEventListener("click", () => runClock({ local: input.value }));
      pop.appendChild(el("div", "clock-help", `${w.clockHelp} (${me().tz}, ${w.yourTime})`));
      UI.place(pop, run);
    });
  }

  async function runClock(body) {
    UI.close();
    if (S.clock) S.clock.running = true;
    renderClock();
    await post("clock", body);
  }

  /* --- the sidebar -------------------------------------------------------------------------- */

  function unread(channelId) {
    const since = S.read[channelId] || "0";
    let n = 0;
    S.messages.forEach((m) => {
      if (m.channel === channelId && (!m.thread_ts || m.thread_ts === m.ts) && m.user !== S.me
          && tsNumber(m.ts) > tsNumber(since)) n++;
    });
    return n;
  }

  function renderSidebar() {
    const counts = S.boot.channels.map((c) => unread(c.id)).concat([unread(dmId(S.me))]);
    if (!changed("sidebar", [S.me, S.where, counts])) return;
    const w = words();
    const nav = $("#sidebar");
    nav.textContent = "";
    nav.appendChild(el("div", "team-name", S.boot.team.name));
    nav.appendChild(el("div", "side-heading", w.channels));
    S.boot.channels.forEach((c) => {
      nav.appendChild(sideItem("# " + c.name, c.id, S.where.kind === "channel" && S.where.id === c.id,
        () => go({ kind: "channel", id: c.id })));
    });
    nav.appendChild(el("div", "side-heading", w.apps));
    const app = sideItem(S.boot.bot.name, dmId(S.me), S.where.kind === "app",
      () => go({ kind: "app", tab: S.where.kind === "app" ? S.where.tab : "home" }));
    app.prepend(avatar(S.boot.bot.id, "tiny"));
    app.classList.add("side-app");
    nav.appendChild(app);
    const log = nav.appendChild(el("button", "side-log", w.log));
    log.type = "button";
    log.addEventListener("click", () => {
      S.side = S.side === "log" ? null : "log";
      renderSide();
    });
  }

  function sideItem(text, channelId, active, onClick) {
    const b = el("button", "side-item" + (active ? " active" : ""));
    b.type = "button";
    b.dataset.channel = channelId;
    b.appendChild(el("span", "side-name", text));
    const n = active ? 0 : unread(channelId);
    if (n) {
      b.classList.add("unread");
      b.appendChild(el("span", "badge", String(n)));
    }
    b.addEventListener("click", onClick);
    return b;
  }

  /* --- where the person is --------------------------------------------------------------------- */

  function conversationId() {
    return S.where.kind === "channel" ? S.where.id : dmId(S.me);
  }

  function go(where, opts) {
    S.where = where;
    const hash = where.kind === "channel" ? where.id : "app-" + where.tab;
    if (!(opts && opts.keepHash)) history.replaceState(null, "", "#" + hash);
    if (where.kind === "app") post("home", { tab: where.tab });
    render(true);
  }

  function fromHash() {
    const hash = decodeURIComponent(location.hash.slice(1));
    const link = /^archives\/([A-Z0-9]+)\/p(\d+)$/.exec(hash);
    if (link) {
      const ts = link[2].slice(0, -6) + "." + link[2].slice(-6);
      S.highlight = ts;
      if (link[1].startsWith("D")) return { kind: "app", tab: "messages" };
      return { kind: "channel", id: link[1] };
    }
    if (hash === "app-home" || hash === "app-messages") return { kind: "app", tab: hash.slice(4) };
    if (channel(hash)) return { kind: "channel", id: hash };
    return null;
  }

  window.addEventListener("hashchange", () => {
    const where = fromHash();
    if (where) go(where, { keepHash: true });
  });

  document.addEventListener("click", (ev) => {
    // Links into this workspace (permalinks, #channel mentions) stay in the page.
    const a = ev.target.closest("a");
    if (!a) return;
    const channelId = a.dataset.channel;
    if (channelId) {
      ev.preventDefault();
      if (channel(channelId)) go({ kind: "channel", id: channelId });
      return;
    }
    try {
      const url = new URL(a.href);
      if (url.origin === location.origin && url.pathname.startsWith("/archives/")) {
        ev.preventDefault();
        location.hash = url.pathname.slice(1);
      }
    } catch (e) { /* not a URL */ }
  });

  /* --- conversations ------------------------------------------------------------------------- */

  function topLevel(channelId) {
    const out = [];
    S.messages.forEach((m) => {
      if (m.channel === channelId && (!m.thread_ts || m.thread_ts === m.ts)) out.push(m);
    });
    return out.sort((a, b) => tsNumber(a.ts) - tsNumber(b.ts));
  }

  function replies(channelId, ts) {
    const out = [];
    S.messages.forEach((m) => {
      if (m.channel === channelId && m.thread_ts === ts && m.ts !== ts) out.push(m);
    });
    return out.sort((a, b) => tsNumber(a.ts) - tsNumber(b.ts));
  }

  const drawn = new Map(); // "channel ts" -> {rev, node}

  function messageNode(m, inThread) {
    const key = `${m.channel} ${m.ts}${inThread ? " t" : ""}`;
    const cached = drawn.get(key);
    if (cached && cached.rev === m.rev && cached.me === S.me) return cached.node;
    const w = words();
    const node = el("div", "msg" + (m.ephemeral ? " ephemeral" : ""));
    node.dataset.ts = m.ts;
    node.dataset.channel = m.channel;
    node.dataset.user = m.user;
    node.appendChild(avatar(m.user));
    const body = node.appendChild(el("div", "msg-body"));
    const where = { channel: m.channel, ts: m.ts };
    if (m.ephemeral) {
      const note = body.appendChild(el("div", "ephemeral-note"));
      note.appendChild(el("span", "eye", "👁"));
      note.appendChild(el("span", "only-you", w.onlyYou));
      note.appendChild(document.createTextNode(" · "));
      const dismiss = note.appendChild(el("button", "link-button", w.dismiss));
      dismiss.type = "button";
      dismiss.addEventListener("click", () => post("dismiss", { where }));
    }
    const head = body.appendChild(el("div", "msg-head"));
    head.appendChild(el("span", "msg-author", authorName(m.user)));
    if (m.user === S.boot.bot.id) head.appendChild(el("span", "app-badge", w.app));
    const time = head.appendChild(el("time", "msg-time", localTime(m.ts)));
    time.title = new Date(tsNumber(m.ts) * 1000).toISOString();
    if (m.edited) head.appendChild(el("span", "msg-edited", w.edited));
    const content = body.appendChild(el("div", "msg-content"));
    if (m.blocks && m.blocks.length) {
      content.appendChild(BlockKit.render(m.blocks, blockContext("message", where)));
    } else if (m.text) {
      content.appendChild(el("div", "mrkdwn")).appendChild(Mrkdwn.render(m.text, blockContext("message", where)));
    }
    (m.files || []).forEach((f) => body.appendChild(fileNode(f)));
    if ((m.reactions || []).length) body.appendChild(reactionsNode(m));
    if (!inThread && m.reply_count) {
      const link = body.appendChild(el("button", "thread-link", `${m.reply_count} ${m.reply_count === 1 ? w.reply : w.replies}`));
      link.type = "button";
      link.addEventListener("click", () => openThread(m));
    }
    if (!m.ephemeral) node.appendChild(toolsNode(m, inThread));
    drawn.set(key, { rev: m.rev, node, me: S.me });
    return node;
  }

  // What the reaction tool offers: the complaint emoji touchbase listens for by default first.
  const REACTIONS = ["rotating_light", "+1", "eyes", "white_check_mark", "heart", "tada", "pray", "rage"];

  function react(m, name) {
    post("react", { where: { channel: m.channel, ts: m.ts }, name });
  }

  function reactionsNode(m) {
    const w = words();
    const row = el("div", "reactions");
    m.reactions.forEach((r) => {
      const chip = row.appendChild(el("button", "reaction" + (r.users.includes(S.me) ? " mine" : ""),
        `${Mrkdwn.emojify(`:${r.name}:`)} ${r.count}`));
      chip.type = "button";
      chip.dataset.name = r.name;
      chip.title = r.users.map((u) => w.reacted.replace("{who}", authorName(u)).replace("{name}", r.name)).join("\n");
      chip.addEventListener("click", () => react(m, r.name));
    });
    return row;
  }

  function toolsNode(m, inThread) {
    const w = words();
    const tools = el("div", "msg-tools");
    const emoji = tools.appendChild(el("button", "tool msg-react", "☺+"));
    emoji.type = "button";
    emoji.title = w.addReaction;
    emoji.addEventListener("click", () => UI.menu(emoji, REACTIONS.map((name) => ({
      label: `${Mrkdwn.emojify(`:${name}:`)}  :${name}:`, description: "", cls: "reaction-pick",
      pick: () => react(m, name),
    }))));
    if (!inThread) {
      const reply = tools.appendChild(el("button", "tool", "💬"));
      reply.type = "button";
      reply.title = w.replyInThread;
      reply.addEventListener("click", () => openThread(m));
    }
    const more = tools.appendChild(el("button", "tool msg-more", "⋮"));
    more.type = "button";
    more.title = w.moreActions;
    more.addEventListener("click", () => {
      const items = S.boot.shortcuts.map((s) => ({
        label: s.name, description: S.boot.bot.name, cls: "shortcut",
        pick: () => post("shortcut", { callback_id: s.callback_id, where: { channel: m.channel, ts: m.ts } }),
      }));
      items.push({
        label: w.copyLink, description: "",
        pick: () => navigator.clipboard && navigator.clipboard.writeText(
          `${location.origin}/archives/${m.channel}/p${m.ts.replace(".", "")}`),
      });
      UI.menu(more, items);
    });
    return tools;
  }

  function fileNode(f) {
    if ((f.mimetype || "").startsWith("image/")) {
      const fig = el("figure", "msg-file image");
      fig.appendChild(el("figcaption", "", f.title || f.name));
      const a = fig.appendChild(el("a"));
      a.href = f.url_private;
      a.target = "_blank";
      const img = a.appendChild(el("img"));
      img.src = f.url_private;
      img.alt = f.alt_txt || f.title || f.name;
      return fig;
    }
    const card = el("div", "msg-file");
    card.appendChild(el("span", "file-icon", (f.filetype || "file").toUpperCase().slice(0, 4)));
    const info = card.appendChild(el("div", "file-info"));
    info.appendChild(el("div", "file-name", f.title || f.name));
    info.appendChild(el("div", "muted", `${f.name} · ${(f.size / 1024).toFixed(1)} KB`));
    const a = card.appendChild(el("a", "bk-button", words().download));
    a.href = f.url_private;
    a.download = f.name;
    return card;
  }

  function renderMessages(body, channelId, force) {
    let list = $(".messages", body);
    if (!list || list.dataset.channel !== channelId || force) {
      body.textContent = "";
      list = body.appendChild(el("div", "messages"));
      list.dataset.channel = channelId;
    }
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const before = list.childElementCount;
    const wanted = [];
    let lastDay = null;
    topLevel(channelId).forEach((m) => {
      const day = localDay(m.ts);
      if (day !== lastDay) {
        const sep = el("div", "day-divider", day === localDay(Date.now() / 1000) ? words().today : day);
        wanted.push(sep);
        lastDay = day;
      }
      wanted.push(messageNode(m, false));
    });
    // Put the nodes in order, reusing those already drawn (inputs keep what was typed).
    wanted.forEach((node, i) => {
      if (list.children[i] !== node) list.insertBefore(node, list.children[i] || null);
    });
    while (list.children.length > wanted.length) list.lastChild.remove();
    if (S.highlight) {
      const target = list.querySelector(`.msg[data-ts="${S.highlight}"]`);
      if (target) {
        target.scrollIntoView({ block: "center" });
        target.classList.add("highlight");
        setTimeout(() => target.classList.remove("highlight"), 2500);
        S.highlight = null;
        return;
      }
    }
    if (atBottom || force || list.childElementCount !== before) list.scrollTop = list.scrollHeight;
    S.read[channelId] = latestTs(channelId);
    saveRead();
  }

  function latestTs(channelId) {
    let latest = S.read[channelId] || "0";
    S.messages.forEach((m) => {
      if (m.channel === channelId && tsNumber(m.ts) > tsNumber(latest)) latest = m.ts;
    });
    return latest;
  }

  function saveRead() {
    try {
      localStorage.setItem("tb-read-" + S.me, JSON.stringify(S.read));
    } catch (e) { /* private mode */ }
  }

  /* --- the composer: messages and /commands, with hints --------------------------------------- */

  function composer(channelId, threadTs) {
    const w = words();
    const box = el("div", "composer-box");
    const hints = box.appendChild(el("div", "hints"));
    const input = box.appendChild(el("textarea", "composer-input"));
    input.rows = 1;
    const name = channelId.startsWith("D") ? S.boot.bot.name : "#" + channel(channelId).name;
    input.placeholder = threadTs ? w.replyPlaceholder : `${w.message} ${name}`;
    input.setAttribute("aria-label", input.placeholder);
    if (!threadTs) {  // Workflow Builder: the app's steps, run by hand from the conversation
      box.classList.add("with-workflows");
      const run = box.appendChild(el("button", "composer-workflows", "⚡"));
      run.type = "button";
      run.title = w.runStep;
      run.setAttribute("aria-label", w.runStep);
      run.addEventListener("click", () => UI.menu(run, S.boot.steps.map((s) => ({
        label: s.title, description: s.description, cls: "workflow-step",
        pick: () => post("workflow", { callback_id: s.callback_id, where: { channel: channelId } }),
      }))));
    }
    const showHints = () => {
      hints.textContent = "";
      const text = input.value;
      const cmd = S.boot.command;
      const items = [];
      const mention = /(^|\s)@([\w.]*)$/.exec(text.slice(0, input.selectionStart));
      if (text.startsWith("/") && !text.includes(" ") && cmd.name.startsWith(text)) {
        items.push({ line: `\`${cmd.name}\` ${cmd.usage_hint} — ${cmd.description}`, insert: cmd.name + " " });
      } else if (text.startsWith(cmd.name + " ") && !text.slice(cmd.name.length + 1).includes(" ")) {
        const typed = text.slice(cmd.name.length + 1);
        (cmd.hints[me().language] || cmd.hints.en)
          .filter((h) => h.usage.slice(cmd.name.length + 1).startsWith(typed))
          .slice(0, 12)
          .forEach((h) => items.push({ line: h.line, insert: h.usage.split(/[\s[<]/).slice(0, 2).join(" ") + " " }));
      } else if (mention) {
        S.boot.people.filter((p) => p.name.startsWith(mention[2].toLowerCase()) || p.real_name.toLowerCase().includes(mention[2].toLowerCase()))
          .forEach((p) => items.push({
            line: `*${p.real_name}* @${p.name}`,
            insert: text.slice(0, input.selectionStart - mention[2].length) + p.name + " " + text.slice(input.selectionStart),
            replace: true,
          }));
      }
      items.forEach((item) => {
        const row = hints.appendChild(el("button", "hint"));
        row.type = "button";
        row.appendChild(Mrkdwn.render(item.line, blockContext("message", {})));
        row.addEventListener("mousedown", (ev) => {
          ev.preventDefault();
          input.value = item.insert;
          input.focus();
          showHints();
        });
      });
      hints.hidden = !items.length;
    };
    input.addEventListener("input", () => {
      input.style.height = "auto";
      input.style.height = Math.min(input.scrollHeight, 200) + "px";
      showHints();
    });
    input.addEventListener("blur", () => setTimeout(() => { hints.hidden = true; }, 150));
    input.addEventListener("focus", showHints);
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Tab" && !hints.hidden && hints.firstChild) {
        ev.preventDefault();  // Tab takes the first hint
        hints.firstChild.dispatchEvent(new MouseEvent("mousedown"));
        return;
      }
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        const text = input.value;
        if (!text.trim()) return;
        input.value = "";
        input.style.height = "auto";
        hints.hidden = true;
        post("send", { channel: channelId, text, thread_ts: threadTs || null });
      }
    });
    hints.hidden = true;
    return box;
  }

  /* --- the app: Home, Messages, About ------------------------------------------------------------ */

  let homeDrawn = null; // {hash, node, ctx}

  function renderHome(body) {
    const w = words();
    if (!S.home) {
      body.textContent = "";
      body.appendChild(el("div", "home-empty muted", w.noHome));
      homeDrawn = null;
      return;
    }
    if (homeDrawn && homeDrawn.id === S.home.id && homeDrawn.hash === S.home.hash && homeDrawn.me === S.me
        && body.contains(homeDrawn.node)) return;
    const previous = homeDrawn && homeDrawn.id === S.home.id ? BlockKit.collect(homeDrawn.ctx.values) : null;
    const ctx = blockContext("home", { view_id: S.home.id }, { carry: carrier(previous) });
    const node = el("div", "home");
    node.dataset.viewId = S.home.id;
    node.appendChild(BlockKit.render(S.home.view.blocks, ctx));
    body.textContent = "";
    body.appendChild(node);
    homeDrawn = { id: S.home.id, hash: S.home.hash, node, ctx, me: S.me };
  }

  function renderAbout(body) {
    body.textContent = "";
    const box = body.appendChild(el("div", "about"));
    const cmd = S.boot.command;
    box.appendChild(el("h2", "", S.boot.bot.name));
    box.appendChild(el("p", "", cmd.description));
    box.appendChild(el("h3", "", cmd.name));
    (cmd.hints[me().language] || cmd.hints.en).forEach((h) => box.appendChild(el("div", "mrkdwn about-line"))
      .appendChild(Mrkdwn.render(h.line, blockContext("message", {}))));
    box.appendChild(el("h3", "", words().shortcuts));
    S.boot.shortcuts.forEach((s) => box.appendChild(el("div", "about-line", `${s.name} — ${s.description}`)));
    box.appendChild(el("h3", "", words().workflows));
    S.boot.steps.forEach((s) => box.appendChild(el("div", "about-line", `⚡ ${s.title} — ${s.description}`)));
  }

  function carrier(previous) {
    return (blockId, actionId, type) => {
      const state = previous && previous[blockId] && previous[blockId][actionId];
      return state && state.type === type ? state : undefined;
    };
  }

  /* --- the main area ------------------------------------------------------------------------------ */

  function renderHeader() {
    const head = $("#conv-header");
    head.textContent = "";
    const w = words();
    if (S.where.kind === "channel") {
      const c = channel(S.where.id);
      head.appendChild(el("div", "conv-title", "# " + c.name));
      head.appendChild(el("div", "conv-purpose muted", c.purpose));
      return;
    }
    const title = head.appendChild(el("div", "conv-title"));
    title.appendChild(avatar(S.boot.bot.id, "small"));
    title.appendChild(document.createTextNode(" " + S.boot.bot.name));
    const tabs = head.appendChild(el("div", "tabs"));
    [["home", w.home], ["messages", w.messagesTab], ["about", w.about]].forEach(([tab, text]) => {
      const b = tabs.appendChild(el("button", "tab" + (S.where.tab === tab ? " active" : ""), text));
      b.type = "button";
      b.dataset.tab = tab;
      b.addEventListener("click", () => go({ kind: "app", tab }));
    });
  }

  let drawnWhere = null;

  function render(force) {
    if (!S.boot) return;
    const here = JSON.stringify([S.me, S.where]);
    const moved = force || here !== drawnWhere;
    drawnWhere = here;
    document.title = `${S.where.kind === "channel" ? "#" + channel(S.where.id).name : S.boot.bot.name} · ${me().real_name} · touchbase playground`;
    renderMe();
    renderClock();
    renderSidebar();
    const body = $("#conv-body");
    const composerBox = $("#composer");
    if (moved) renderHeader();
    if (S.where.kind === "app" && S.where.tab === "home") {
      renderHome(body);
      composerBox.textContent = "";
    } else if (S.where.kind === "app" && S.where.tab === "about") {
      if (moved) renderAbout(body);
      composerBox.textContent = "";
    } else {
      homeDrawn = null;
      const id = conversationId();
      renderMessages(body, id, moved);
      if (moved || !composerBox.firstChild) {
        composerBox.textContent = "";
        composerBox.appendChild(composer(id));
      }
    }
    renderModal();
    renderSide();
  }

  /* --- modals -------------------------------------------------------------------------------- */

  let modalDrawn = null; // {id, hash, errors, trouble, ctx, node}

  function renderModal() {
    const layer = $("#modal-layer");
    const top = S.modals[S.modals.length - 1];
    const old = layer.querySelector(".modal-backdrop");
    if (!top) {
      if (old) old.remove();
      modalDrawn = null;
      return;
    }
    const sign = JSON.stringify([top.hash, top.errors, top.trouble, S.modals.length]);
    if (modalDrawn && modalDrawn.id === top.id && modalDrawn.sign === sign && old) return;
    const previous = modalDrawn && modalDrawn.id === top.id ? BlockKit.collect(modalDrawn.ctx.values) : null;
    const view = top.view;
    const ctx = blockContext("modal", { view_id: top.id }, { errors: top.errors || {}, carry: carrier(previous) });
    const back = el("div", "modal-backdrop");
    const box = back.appendChild(el("div", "modal"));
    box.setAttribute("role", "dialog");
    box.dataset.viewId = top.id;
    box.dataset.callbackId = view.callback_id || "";
    const head = box.appendChild(el("div", "modal-head"));
    if (S.modals.length > 1) {
      const backButton = head.appendChild(el("button", "modal-back", "←"));
      backButton.type = "button";
      backButton.addEventListener("click", () => post("close", { view_id: top.id, values: BlockKit.collect(ctx.values) }));
    }
    head.appendChild(el("div", "modal-title", BlockKit.label(view.title)));
    const x = head.appendChild(el("button", "modal-x", "×"));
    x.type = "button";
    x.title = words().close;
    x.addEventListener("click", () => post("close", { view_id: S.modals[0].id, values: BlockKit.collect(ctx.values) }));
    const body = box.appendChild(el("div", "modal-body"));
    body.appendChild(BlockKit.render(view.blocks, ctx));
    if (top.trouble) box.appendChild(el("div", "modal-trouble", top.trouble));
    const foot = box.appendChild(el("div", "modal-foot"));
    const close = foot.appendChild(el("button", "bk-button modal-close", BlockKit.label(view.close) || words().cancel));
    close.type = "button";
    close.addEventListener("click", () => post("close", { view_id: top.id, values: BlockKit.collect(ctx.values) }));
    if (view.submit) {
      const submit = foot.appendChild(el("button", "bk-button primary modal-submit", BlockKit.label(view.submit)));
      submit.type = "button";
      submit.disabled = view.submit_disabled === true;
      submit.addEventListener("click", () => {
        const errors = BlockKit.validate(ctx.values, words());
        if (Object.keys(errors).length) {
          showErrors(box, errors);
          return;
        }
        submit.disabled = true;
        submit.classList.add("busy");
        post("submit", { view_id: top.id, values: BlockKit.collect(ctx.values) }).finally(() => {
          submit.disabled = false;
          submit.classList.remove("busy");
        });
      });
    }
    if (old) old.replaceWith(back);
    else layer.prepend(back);
    modalDrawn = { id: top.id, sign, ctx, node: back };
  }

  function showErrors(box, errors) {
    box.querySelectorAll(".bk-input").forEach((input) => {
      input.classList.remove("has-error");
      const old = input.querySelector(".bk-error");
      if (old) old.remove();
      const message = errors[input.dataset.blockId];
      if (message) {
        input.classList.add("has-error");
        input.appendChild(el("div", "bk-error", message));
      }
    });
  }

  /* --- the side pane: a thread, or the Web API log ------------------------------------------------ */

  function openThread(m) {
    S.thread = { channel: m.channel, ts: m.ts };
    S.side = "thread";
    renderSide(true);
  }

  let sideDrawn = null;

  function renderSide(force) {
    const side = $("#side");
    if (!S.side) {
      side.hidden = true;
      sideDrawn = null;
      return;
    }
    side.hidden = false;
    const w = words();
    if (S.side === "log") {
      side.textContent = "";
      const head = side.appendChild(el("div", "side-head"));
      head.appendChild(el("span", "", w.log));
      head.appendChild(closeButton());
      const list = side.appendChild(el("div", "log"));
      S.calls.slice().reverse().forEach((c) => {
        const row = list.appendChild(el("div", "log-row" + (c.ok ? "" : " failed")));
        row.appendChild(el("span", "log-time", new Date(c.at * 1000).toLocaleTimeString()));
        row.appendChild(el("span", "log-method", c.method));
        row.appendChild(el("span", "log-about", c.ok ? c.about : `${c.error} ${c.about}`));
        (c.messages || []).forEach((msg) => row.appendChild(el("div", "log-detail", msg)));
      });
      sideDrawn = null;
      return;
    }
    const parent = S.messages.get(`${S.thread.channel} ${S.thread.ts}`);
    if (!parent) {
      S.side = null;
      side.hidden = true;
      return;
    }
    const key = `${S.thread.channel} ${S.thread.ts}`;
    if (force || !sideDrawn || sideDrawn.key !== key) {
      side.textContent = "";
      const head = side.appendChild(el("div", "side-head"));
      const name = parent.channel.startsWith("D") ? S.boot.bot.name : "#" + channel(parent.channel).name;
      head.appendChild(el("span", "", `${w.thread} · ${name}`));
      head.appendChild(closeButton());
      side.appendChild(el("div", "messages thread-messages"));
      side.appendChild(composer(parent.channel, parent.ts));
      sideDrawn = { key };
    }
    const list = $(".thread-messages", side);
    const wanted = [messageNode(parent, true), el("div", "thread-count", `${parent.reply_count} ${w.replies}`),
      ...replies(parent.channel, parent.ts).map((m) => messageNode(m, true))];
    list.textContent = "";
    wanted.forEach((n) => list.appendChild(n));
  }

  function closeButton() {
    const b = el("button", "side-close", "×");
    b.type = "button";
    b.addEventListener("click", () => {
      S.side = null;
      renderSide();
    });
    return b;
  }

  /* --- changes from the playground ------------------------------------------------------------------ */

  function apply(changes) {
    changes.messages.forEach((m) => S.messages.set(`${m.channel} ${m.ts}`, m));
    changes.removed.forEach((r) => S.messages.delete(`${r.channel} ${r.ts}`));
    S.modals = changes.modals;
    S.home = changes.home;
    S.clock = changes.clock;
    S.calls = S.calls.concat(changes.calls).slice(-300);
    if (S.version > 0) {
      changes.notices.forEach((n) => {
        if (!S.seenNotices.has(n.id)) toast(n.text, n.level);
      });
    }
    changes.notices.forEach((n) => S.seenNotices.add(n.id));
    const first = S.version === 0;
    S.version = changes.version;
    if (first && S.firstVisit) {
      // A person's first visit: what was there before counts as read.
      S.boot.channels.forEach((c) => { S.read[c.id] = latestTs(c.id); });
      S.read[dmId(S.me)] = latestTs(dmId(S.me));
      saveRead();
    }
    render(false);
  }

  async function poll(gen) {
    while (gen === S.gen) {
      try {
        const url = `/play/changes?as=${encodeURIComponent(S.me)}&since=${S.version}&wait=${S.version ? 1 : 0}`
          + `&instance=${S.boot.instance}`;
        const response = await fetch(url, { cache: "no-store" });
        if (gen !== S.gen) return;
        if (!response.ok) throw new Error(String(response.status));
        const changes = await response.json();
        if (changes.instance !== S.boot.instance) {
          location.reload();  // the playground was restarted: start over with what it has
          return;
        }
        apply(changes);
        document.body.classList.remove("offline");
      } catch (e) {
        if (gen !== S.gen) return;
        document.body.classList.add("offline");
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
    }
  }

  function switchTo(personId) {
    S.gen++;
    S.me = personId;
    try {
      localStorage.setItem("tb-me", personId);
      S.firstVisit = !localStorage.getItem("tb-read-" + personId);
      S.read = JSON.parse(localStorage.getItem("tb-read-" + personId) || "{}");
    } catch (e) {
      S.read = {};
      S.firstVisit = true;
    }
    S.version = 0;
    S.messages = new Map();
    S.modals = [];
    S.home = null;
    S.calls = [];
    S.thread = null;
    if (S.side === "thread") S.side = null;
    drawn.clear();
    homeDrawn = null;
    modalDrawn = null;
    document.documentElement.lang = me().language === "zh" ? "zh-CN" : "en";
    document.body.dataset.me = personId;
    const url = new URL(location.href);
    url.searchParams.set("as", personId);
    history.replaceState(null, "", url);
    render(true);
    if (S.where.kind === "app") post("home", { tab: S.where.tab });
    poll(S.gen);
  }

  async function start() {
    S.boot = await (await fetch("/play/boot")).json();
    const asked = new URL(location.href).searchParams.get("as");
    let stored = null;
    try { stored = localStorage.getItem("tb-me"); } catch (e) { /* private mode */ }
    const first = [asked, stored, S.boot.first].find((id) => id && person(id));
    S.where = fromHash() || { kind: "channel", id: S.boot.channels[0].id };
    switchTo(first);
    document.body.classList.add("ready");
  }

  start();
})();
