/* Mijn Stem web chat. Talks only to our own server (/chat/api/message).
 * Every text is put in the page with textContent, never as HTML. The Dutch copy comes
 * from the page (the JSON block in chat.html). */
(function () {
  "use strict";

  var copy = JSON.parse(document.getElementById("copy").textContent);
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("text");
  var sendButton = document.getElementById("send");
  var notice = document.getElementById("notice");
  var counter = document.getElementById("counter");
  var maxChars = Number(form.getAttribute("data-max")) || 4000;
  var finePointer = window.matchMedia && window.matchMedia("(pointer: fine)").matches;
  var busy = false;

  var atBottom = true;

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
    atBottom = true;
  }

  /* When the on-screen keyboard opens the page gets shorter: keep the newest messages
   * in view, unless the child had scrolled up to read back. */
  log.addEventListener("scroll", function () {
    atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  }, { passive: true });
  window.addEventListener("resize", function () {
    if (atBottom) scrollDown();
  });

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }

  /* Read aloud (issue 11): the browser's own speech synthesis with a Dutch voice, so
   * nothing leaves the device. The 🔊 buttons show only when a Dutch voice exists; the
   * page turns reading on by default for the youngest (data-read-aloud="on"). */
  var synth = window.speechSynthesis || null;
  var dutchVoice = null;
  var autoRead = log.getAttribute("data-read-aloud") === "on";
  var readToggle = document.getElementById("read-toggle");
  try {
    /* The child's own choice on this device wins over the age band's default. */
    var stored = window.localStorage.getItem("mijnstem-read-aloud");
    if (stored === "on" || stored === "off") autoRead = stored === "on";
  } catch (e) { /* storage may be blocked: keep the default */ }

  function showReadToggle() {
    if (!readToggle) return;
    readToggle.textContent = autoRead ? copy.read_off : copy.read_on;
    readToggle.setAttribute("aria-pressed", autoRead ? "true" : "false");
  }
  showReadToggle();
  if (readToggle) {
    readToggle.addEventListener("click", function () {
      autoRead = !autoRead;
      if (!autoRead && synth) synth.cancel();
      try { window.localStorage.setItem("mijnstem-read-aloud", autoRead ? "on" : "off"); } catch (e) { /* ignore */ }
      showReadToggle();
    });
  }
  var PICTURE = /^(.*?)\s*((?:\p{Extended_Pictographic}|\p{Emoji_Modifier}|\uFE0F|\u200D)+)\s*$/u;

  function pickVoice() {
    if (!synth) return;
    var voices = synth.getVoices() || [];
    dutchVoice = null;
    for (var i = 0; i < voices.length && !dutchVoice; i++) {
      if (/^nl[-_]NL$/i.test(voices[i].lang)) dutchVoice = voices[i];
    }
    for (var j = 0; j < voices.length && !dutchVoice; j++) {
      if (/^nl([-_]|$)/i.test(voices[j].lang)) dutchVoice = voices[j];
    }
    document.body.classList.toggle("can-speak", !!dutchVoice);
  }

  function speakable(text) {
    return text.replace(/(?:\p{Extended_Pictographic}|\uFE0F|\u200D)/gu, "").trim();
  }

  function speak(text, queue) {
    if (!synth || !dutchVoice) return;
    if (!queue) synth.cancel();
    var utterance = new SpeechSynthesisUtterance(speakable(text));
    utterance.lang = dutchVoice.lang;
    utterance.voice = dutchVoice;
    utterance.rate = 0.95;
    synth.speak(utterance);
  }

  function addReadAloud(div) {
    if (div.querySelector(".speak")) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "speak";
    button.setAttribute("aria-label", copy.read_aloud);
    button.title = copy.read_aloud;
    button.textContent = "🔊";
    div.appendChild(button);
  }

  if (synth) {
    pickVoice();
    if (typeof synth.addEventListener === "function") {
      synth.addEventListener("voiceschanged", pickVoice);
    } else {
      synth.onvoiceschanged = pickVoice;
    }
  }

  function bubble(from, text) {
    var div = document.createElement("div");
    div.className = "msg " + (from === "bot" ? "bot" : "child");
    var who = document.createElement("span");
    who.className = "sr-only";
    who.textContent = from === "bot" ? copy.who_bot : copy.who_child;
    var p = document.createElement("p");
    p.textContent = text;
    div.appendChild(who);
    div.appendChild(p);
    if (from === "bot") addReadAloud(div);
    log.appendChild(div);
    return div;
  }

  /* Big answer buttons with a picture: a title ending in emoji ("Heel belangrijk 😍")
   * shows the emoji large above its words. */
  function dressChoice(button, title) {
    button.setAttribute("data-title", title);
    var match = PICTURE.exec(title);
    if (!match || !match[1]) return;
    button.textContent = "";
    button.classList.add("pictured");
    var picture = document.createElement("span");
    picture.className = "picture";
    picture.setAttribute("aria-hidden", "true");
    picture.textContent = match[2];
    var words = document.createElement("span");
    words.className = "words";
    words.textContent = match[1];
    button.appendChild(picture);
    button.appendChild(words);
  }

  function currentChoices() {
    return log.querySelector(".choices");
  }

  function showChoices(titles) {
    var old = currentChoices();
    if (old) old.remove();
    if (!titles || !titles.length) return null;
    var group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", copy.choices);
    titles.forEach(function (title, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "choice";
      button.setAttribute("data-index", String(index));
      button.textContent = title;
      dressChoice(button, title);
      group.appendChild(button);
    });
    log.appendChild(group);
    return group;
  }

  function typingIndicator() {
    var div = document.createElement("div");
    div.className = "msg bot";
    div.setAttribute("role", "status");
    var dots = document.createElement("span");
    dots.className = "typing";
    dots.setAttribute("aria-label", copy.typing);
    for (var i = 0; i < 3; i++) dots.appendChild(document.createElement("span"));
    div.appendChild(dots);
    log.appendChild(div);
    return div;
  }

  function setBusy(on) {
    busy = on;
    sendButton.disabled = on;
    var group = currentChoices();
    if (group) {
      group.querySelectorAll("button").forEach(function (b) { b.disabled = on; });
    }
  }

  function clearNotice() {
    notice.hidden = true;
    notice.textContent = "";
  }

  function showNotice(text, retry) {
    notice.textContent = "";
    var p = document.createElement("p");
    p.textContent = text;
    notice.appendChild(p);
    if (retry) {
      var again = document.createElement("button");
      again.type = "button";
      again.className = "retry";
      again.textContent = copy.retry;
      again.addEventListener("click", retry);
      notice.appendChild(again);
    }
    notice.hidden = false;
  }

  function showNoSession() {
    notice.textContent = "";
    var p = document.createElement("p");
    p.textContent = copy.no_session + " ";
    var link = document.createElement("a");
    link.href = "/chat";
    link.textContent = copy.no_session_link;
    p.appendChild(link);
    notice.appendChild(p);
    notice.hidden = false;
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 4, 160) + "px";
  }

  function updateCounter() {
    var n = input.value.length;
    if (n > maxChars - 200) {
      counter.hidden = false;
      counter.textContent = fill(copy.counter, { n: n, max: maxChars });
      counter.classList.toggle("over", n > maxChars);
    } else {
      counter.hidden = true;
    }
  }

  /* Send {text} or {button}; `shown` is the child's bubble. On failure the typed text
   * goes back into the input box, so nothing the child wrote is lost. */
  function send(body, shown, typed) {
    if (busy) return;
    setBusy(true);
    clearNotice();
    var mine = bubble("child", shown);
    mine.classList.add("sending");
    if (typed) {
      input.value = "";
      autosize();
      updateCounter();
    }
    var dots = typingIndicator();
    scrollDown();

    var status = 0;
    fetch("/chat/api/message", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      credentials: "same-origin",
      cache: "no-store",
      body: JSON.stringify(body)
    })
      .then(function (response) {
        status = response.status;
        return response.json().catch(function () { return null; });
      }, function () { return null; })
      .then(function (data) {
        dots.remove();
        setBusy(false);
        if (status === 200 && data && Array.isArray(data.messages)) {
          mine.classList.remove("sending");
          mine.querySelector("p").textContent = data.child;
          data.messages.forEach(function (m) {
            var div = bubble("bot", m.text);
            if (m.image) {
              /* Only our own picture (the server drops any other image). */
              var img = document.createElement("img");
              img.className = "picture";
              img.src = m.image;
              img.alt = m.text || "";
              div.insertBefore(img, div.querySelector("p"));
            }
            if (autoRead) speak(m.text, true);
          });
          var group = showChoices(data.buttons);
          scrollDown();
          if (group && !typed) {
            group.querySelector("button").focus({ preventScroll: true });
          } else if (finePointer || typed) {
            input.focus({ preventScroll: true });
          }
          return;
        }
        mine.remove();
        if (typed && !input.value) {
          input.value = shown;
          autosize();
          updateCounter();
        }
        failed((data && data.error) || "busy", data || {}, function () {
          if (typed) {
            submitTyped();
          } else {
            send(body, shown, false);
          }
        });
      });
  }

  function failed(error, data, retry) {
    if (error === "busy") {
      showNotice(copy.busy, retry);
    } else if (error === "rate_limited") {
      showNotice(copy.rate_limited, null);
    } else if (error === "too_long") {
      showNotice(fill(copy.too_long, { max: data.max || maxChars }), null);
    } else if (error === "no_session") {
      showNoSession();
    } else if (error === "paused") {
      window.location.reload(); /* the paused page asks the child to continue */
    } else if (error === "stale_button") {
      showNotice(copy.stale, null);
      window.setTimeout(function () { window.location.reload(); }, 800);
    } else if (error === "empty") {
      clearNotice();
    } else {
      showNotice(copy.invalid, null);
    }
  }

  function submitTyped() {
    var text = input.value;
    if (!text.trim()) {
      input.focus();
      return; /* empty messages are simply not sent */
    }
    if (text.length > maxChars) {
      showNotice(fill(copy.too_long, { max: maxChars }), null);
      return;
    }
    send({ text: text }, text.trim(), true);
  }

  var feelingButton = document.getElementById("feeling");
  if (feelingButton) {
    feelingButton.addEventListener("click", function () {
      if (busy) return;
      send({ command: "gevoel" }, copy.feeling, false);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submitTyped();
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && finePointer) {
      event.preventDefault();
      submitTyped();
    }
  });

  input.addEventListener("input", function () {
    autosize();
    updateCounter();
  });

  log.addEventListener("click", function (event) {
    var reader = event.target.closest && event.target.closest("button.speak");
    if (reader) {
      speak(reader.parentNode.querySelector("p").textContent, false);
      return;
    }
    var button = event.target.closest && event.target.closest("button.choice");
    if (!button || busy || button.disabled) return;
    var index = Number(button.getAttribute("data-index"));
    send({ button: index }, button.getAttribute("data-title") || button.textContent, false);
  });

  /* What the server put in the page (a reload) gets the same buttons. */
  log.querySelectorAll(".msg.bot").forEach(addReadAloud);
  log.querySelectorAll("button.choice").forEach(function (button) {
    dressChoice(button, button.textContent.trim());
  });

  autosize();
  updateCounter();
  scrollDown();
})();
