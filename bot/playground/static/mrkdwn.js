/* Slack's mrkdwn, drawn as DOM nodes (never as HTML strings: the text is data).
 *
 * What Slack documents (https://docs.slack.dev/messaging/formatting-message-text): *bold*,
 * _italic_, ~strike~, `code`, ```preformatted```, > quotes, line breaks, links <url|text>,
 * mentions <@U…>, <#C…>, <!here>, <!subteam^…>, dates <!date^ts^format|fallback>, :emoji:,
 * and the three escaped characters &lt; &gt; &amp;.
 */
(function () {
  "use strict";

  const EMOJI = {
    "+1": "👍", thumbsup: "👍", "-1": "👎", thumbsdown: "👎", smile: "😄", slightly_smiling_face: "🙂",
    grinning: "😀", wink: "😉", joy: "😂", heart: "❤️", tada: "🎉", wave: "👋", clap: "👏", pray: "🙏",
    eyes: "👀", fire: "🔥", rocket: "🚀", star: "⭐", sparkles: "✨", bulb: "💡", memo: "📝", pencil: "📝",
    pencil2: "✏️", calendar: "📅", date: "📅", spiral_calendar_pad: "🗓️", alarm_clock: "⏰", clock9: "🕘",
    hourglass: "⌛", hourglass_flowing_sand: "⏳", bell: "🔔", no_bell: "🔕", mega: "📣", loudspeaker: "📢",
    warning: "⚠️", rotating_light: "🚨", red_circle: "🔴", large_green_circle: "🟢", large_yellow_circle: "🟡",
    large_blue_circle: "🔵", white_circle: "⚪", black_circle: "⚫", white_check_mark: "✅",
    heavy_check_mark: "✔️", ballot_box_with_check: "☑️", x: "❌", heavy_multiplication_x: "✖️",
    no_entry: "⛔", no_entry_sign: "🚫", question: "❓", exclamation: "❗", information_source: "ℹ️",
    arrow_right: "➡️", arrow_left: "⬅️", arrow_up: "⬆️", arrow_down: "⬇️", arrow_forward: "▶️",
    chart_with_upwards_trend: "📈", chart_with_downwards_trend: "📉", bar_chart: "📊", moneybag: "💰",
    dollar: "💵", briefcase: "💼", handshake: "🤝", telephone_receiver: "📞", phone: "☎️", email: "📧",
    envelope: "✉️", inbox_tray: "📥", outbox_tray: "📤", package: "📦", truck: "🚚", house: "🏠",
    office: "🏢", busts_in_silhouette: "👥", bust_in_silhouette: "👤", speech_balloon: "💬", zap: "⚡",
    lock: "🔒", key: "🔑", mag: "🔍", link: "🔗", paperclip: "📎", pushpin: "📌", round_pushpin: "📍",
    hammer_and_wrench: "🛠️", gear: "⚙️", trophy: "🏆", medal: "🏅", checkered_flag: "🏁", snail: "🐌",
    zzz: "💤", sleeping: "😴", thinking_face: "🤔", disappointed: "😞", angry: "😠", rage: "😡", cry: "😢",
    slightly_frowning_face: "🙁", muscle: "💪", point_right: "👉", seedling: "🌱", coffee: "☕",
  };

  const ENTITIES = { "&lt;": "<", "&gt;": ">", "&amp;": "&" };

  function decode(text) {
    return text.replace(/&(lt|gt|amp);/g, (m) => ENTITIES[m]);
  }

  function emojify(text) {
    return text.replace(/:([a-z0-9_+\-]+):/g, (m, name) => EMOJI[name] || m);
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* --- dates: <!date^1392734382^{date_short_pretty} at {time}|fallback> ------------------ */

  function ordinal(n) {
    const s = ["th", "st", "nd", "rd"], v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }

  function dayKey(date, tz) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(date);
  }

  function formatDate(epoch, format, ctx) {
    const date = new Date(epoch * 1000);
    const tz = ctx.tz || "UTC", locale = ctx.locale || "en-US";
    const english = locale.toLowerCase().startsWith("en");
    const part = (opts) => new Intl.DateTimeFormat(locale, { timeZone: tz, ...opts }).format(date);
    const parts = (opts) => {
      const out = {};
      new Intl.DateTimeFormat("en-US", { timeZone: tz, ...opts }).formatToParts(date)
        .forEach((p) => { out[p.type] = p.value; });
      return out;
    };
    const long = () => {
      if (!english) return part({ year: "numeric", month: "long", day: "numeric" });
      const p = parts({ year: "numeric", month: "long", day: "numeric" });
      return `${p.month} ${ordinal(Number(p.day))}, ${p.year}`;
    };
    const short = () => part({ year: "numeric", month: "short", day: "numeric" });
    const weekday = () => part({ weekday: "long" });
    const pretty = (fallback) => {
      const days = Math.round((Date.parse(dayKey(date, tz)) - Date.parse(dayKey(new Date(), tz))) / 86400000);
      if (days >= -1 && days <= 1) {
        const word = new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(days, "day");
        return word.charAt(0).toUpperCase() + word.slice(1);
      }
      return fallback();
    };
    const ago = () => {
      const seconds = Math.round((date - Date.now()) / 1000);
      const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
      for (const [unit, size] of [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]]) {
        if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
      }
      return rtf.format(seconds, "second");
    };
    const tokens = {
      date_num: () => dayKey(date, tz),
      date: long,
      date_short: short,
      date_long: () => (english ? `${weekday()}, ${long()}` : part({ dateStyle: "full" })),
      date_pretty: () => pretty(long),
      date_short_pretty: () => pretty(short),
      date_long_pretty: () => pretty(() => (english ? `${weekday()}, ${long()}` : part({ dateStyle: "full" }))),
      time: () => part({ hour: "numeric", minute: "2-digit" }),
      time_secs: () => part({ hour: "numeric", minute: "2-digit", second: "2-digit" }),
      ago: ago,
    };
    return format.replace(/\{(\w+)\}/g, (m, name) => (tokens[name] ? tokens[name]() : m));
  }

  /* --- <…> ------------------------------------------------------------------------------- */

  function angle(inner, ctx) {
    const [target, label] = splitLabel(inner);
    if (target.startsWith("@")) {
      const id = target.slice(1);
      const person = ctx.person && ctx.person(id);
      const chip = el("span", "mention" + (id === ctx.me ? " mention-me" : ""),
        "@" + (person ? person.real_name : (label || id)));
      chip.dataset.user = id;
      return chip;
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      const channel = ctx.channel && ctx.channel(id);
      const chip = el("a", "mention channel-mention", "#" + (channel ? channel.name : (label || id)));
      chip.href = "#" + id;
      chip.dataset.channel = id;
      return chip;
    }
    if (target.startsWith("!")) {
      const word = target.slice(1);
      if (word.startsWith("date^")) {
        const [, epoch, format, link] = word.split("^");
        const text = Number.isFinite(Number(epoch)) ? formatDate(Number(epoch), format || "", ctx) : decode(label || "");
        if (link && /^(https?:\/\/|mailto:)/i.test(link)) {  // as Slack does: no other scheme is a link
          const a = el("a", "date-link", text);
          a.href = link;
          a.target = "_blank";
          a.rel = "noopener";
          return a;
        }
        const span = el("span", "date", text);
        span.title = decode(label || "");
        return span;
      }
      if (word.startsWith("subteam^")) return el("span", "mention", decode(label || "@group"));
      if (["here", "channel", "everyone"].includes(word)) return el("span", "mention mention-me", "@" + word);
      return document.createTextNode(decode(label || word));
    }
    if (/^(https?:\/\/|mailto:|tel:)/i.test(target)) {
      const a = el("a", "link", decode(label || target.replace(/^mailto:/, "")));
      a.href = decode(target);
      a.target = "_blank";
      a.rel = "noopener";
      return a;
    }
    return document.createTextNode("<" + decode(inner) + ">");
  }

  function splitLabel(inner) {
    const bar = inner.indexOf("|");
    return bar < 0 ? [inner, null] : [inner.slice(0, bar), inner.slice(bar + 1)];
  }

  /* --- inline formatting --------------------------------------------------------------------- */

  const OPEN = "\uE000", CLOSE = "\uE001";
  const HOLE = /\uE000(\d+)\uE001/g;
  const FORMAT = /(^|[^\p{L}\p{N}])([*_~])(?!\s)((?:(?!\2).)*?[^\s])\2(?![\p{L}\p{N}])/u;
  const TAGS = { "*": "b", "_": "i", "~": "s" };

  function inline(text, ctx) {
    // Code spans and <…> first: nothing inside them is formatting. They become holes the
    // formatting pass treats as ordinary characters, and are filled in afterwards.
    const holes = [];
    const masked = text.replace(/`([^`\n]+)`|<([^<>\n]+)>/g, (m, code, inner) => {
      holes.push(code !== undefined ? el("code", "inline-code", decode(code)) : angle(inner, ctx));
      return OPEN + (holes.length - 1) + CLOSE;
    });
    const frag = document.createDocumentFragment();
    format(masked, frag, holes);
    return frag;
  }

  function format(text, into, holes) {
    const match = FORMAT.exec(text);
    if (!match) {
      fill(text, into, holes);
      return;
    }
    fill(text.slice(0, match.index) + match[1], into, holes);
    const node = document.createElement(TAGS[match[2]]);
    format(match[3], node, holes);
    into.appendChild(node);
    format(text.slice(match.index + match[0].length), into, holes);
  }

  function fill(text, into, holes) {
    let last = 0;
    text.replace(HOLE, (m, index, offset) => {
      if (offset > last) into.appendChild(document.createTextNode(emojify(decode(text.slice(last, offset)))));
      into.appendChild(holes[Number(index)].cloneNode(true));
      last = offset + m.length;
      return m;
    });
    if (last < text.length) into.appendChild(document.createTextNode(emojify(decode(text.slice(last)))));
  }

  /* --- blocks of text ------------------------------------------------------------------------ */

  function lines(text, into, ctx) {
    const all = text.split("\n");
    let quote = null;
    all.forEach((line, i) => {
      const quoted = /^(&gt;|>)\s?/.exec(line);
      if (quoted) {
        if (!quote) {
          quote = el("blockquote", "quote");
          into.appendChild(quote);
        } else {
          quote.appendChild(document.createElement("br"));
        }
        quote.appendChild(inline(line.slice(quoted[0].length), ctx));
        return;
      }
      quote = null;
      into.appendChild(inline(line, ctx));
      if (i < all.length - 1 && !/^(&gt;|>)/.test(all[i + 1] || "")) into.appendChild(document.createElement("br"));
    });
  }

  function render(text, ctx) {
    const frag = document.createDocumentFragment();
    const parts = String(text || "").split(/```/);
    parts.forEach((part, i) => {
      if (i % 2 === 1 && i < parts.length - 1) {
        frag.appendChild(el("pre", "code-block", decode(part.replace(/^\n/, ""))));
      } else {
        lines(i % 2 === 1 ? "```" + part : part, frag, ctx || {});
      }
    });
    return frag;
  }

  /* plain_text: shown as written; emoji: true turns :shortcodes: into emoji. */
  function plain(text, emoji) {
    return document.createTextNode(emoji === false ? String(text || "") : emojify(String(text || "")));
  }

  window.Mrkdwn = { render, plain, formatDate, decode, emojify };
})();
