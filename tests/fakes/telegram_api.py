"""A fake Telegram Bot API server of our own, on loopback, for the tests.

It speaks the Bot API's HTTP protocol well enough for python-telegram-bot and
bot.notify.telegram: getMe, getUpdates (long polling, serving queued updates),
sendMessage, sendPhoto, sendChatAction, answerCallbackQuery, editMessageText,
editMessageReplyMarkup, setWebhook, deleteWebhook, getWebhookInfo, setMyCommands...
Everything the bot sends is recorded. The test side plays the users: it queues
updates (texts, commands, stickers, button presses, edits) or posts them to the
bot's webhook, and can make the next calls of a method fail with a 429 RetryAfter or a
5xx server error.

    api = FakeTelegramAPI().start()
    env["TELEGRAM_BASE_URL"] = api.base_url   # the bot sends to http://127.0.0.1:PORT/bot<token>/...
    api.send_text(CHAT, "hoi")
    api.wait_for(lambda: api.messages_to(CHAT))
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

TOKEN = "123456:TEST-token-for-the-fake-api"
BOT_ID = 123456
BOT_USERNAME = "MijnStemTestBot"

# Parameters PTB sends JSON-encoded inside form fields.
_JSON_FIELDS = {"reply_markup", "allowed_updates", "entities", "caption_entities",
                "link_preview_options", "reply_parameters", "commands", "scope"}

T = TypeVar("T")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200
    at: float = field(default_factory=time.monotonic)


_SERVER_ERRORS = {500: "Internal Server Error", 502: "Bad Gateway",
                  503: "Service Unavailable", 504: "Gateway Timeout"}


class FakeTelegramAPI:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] = {}
        self.polls = 0  # getUpdates calls: the bot is polling
        self._updates: list[dict[str, Any]] = []
        self._pushed: dict[int, dict[str, Any]] = {}
        self._sent: dict[int, dict[str, Any]] = {}  # message_id -> message the bot sent
        # chat id -> the same messages, in order: a chat's messages without a scan of all
        self._sent_to: dict[int, list[dict[str, Any]]] = {}
        # method -> (HTTP status, retry_after) to serve before answering normally
        self._failures: dict[str, list[tuple[int, int]]] = {}
        self._lock = threading.RLock()  # wait_for calls checks that take it again
        # Notified on every change. A chat's own condition (on the same lock) only when
        # the bot sends to that chat, so a thread waiting for its chat's messages is not
        # woken by every call of every chat.
        self._cond = threading.Condition(self._lock)
        self._chat_conds: dict[int, threading.Condition] = {}
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- server ---------------------------------------------------------------------

    def start(self, port: int = 0) -> FakeTelegramAPI:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # an answer is not held back for the last one's ACK

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                api._handle(self)

            do_GET = do_POST  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def reset(self) -> FakeTelegramAPI:
        """Forget everything: a fresh fake on the same address, so a test never sees
        the updates, messages or polls of the tests before it."""
        with self._cond:
            self.calls = []
            self.webhook = {}
            self.polls = 0
            self._updates = []
            self._pushed = {}
            self._sent = {}
            self._sent_to = {}
            self._failures = {}
            self._cond.notify_all()
            for condition in self._chat_conds.values():
                condition.notify_all()
        return self

    def stop(self) -> None:
        if self._server is not None:
            with self._cond:
                self._cond.notify_all()
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path = urllib.parse.urlparse(request.path).path
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            self._respond(request, 401, {"ok": False, "error_code": 401,
                                         "description": "Unauthorized"})
            return
        method = path[len(prefix):]
        params = _read_params(request)
        with self._cond:
            failure = self._take_failure(method)
            if failure is not None:
                self.calls.append(Call(method, params, status=failure[0]))
                self._cond.notify_all()
        if failure is not None:
            status, retry_after = failure
            if status == 429:
                self._respond(request, 429, {
                    "ok": False, "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                })
            else:
                self._respond(request, status, {
                    "ok": False, "error_code": status,
                    "description": _SERVER_ERRORS.get(status, "Internal Server Error"),
                })
            return
        handler = getattr(self, "_api_" + method, None)
        if handler is None:
            self._respond(request, 404, {"ok": False, "error_code": 404,
                                         "description": "Not Found: method not found"})
            return
        if method != "getUpdates":
            with self._cond:
                self.calls.append(Call(method, params))
                self._cond.notify_all()
        try:
            result = handler(params)
        except _ApiError as exc:
            self._respond(request, exc.code, {"ok": False, "error_code": exc.code,
                                              "description": exc.description})
            return
        self._respond(request, 200, {"ok": True, "result": result})

    @staticmethod
    def _respond(request: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        # Status line, headers and body in one write (send_response and end_headers
        # write the head on its own: two system calls and two packets per answer).
        head = (f"{request.protocol_version} {status} {request.responses[status][0]}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
        # The bot may hang up on a long poll while it shuts down.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            request.wfile.write(head.encode("latin-1") + data)

    def _take_failure(self, method: str) -> tuple[int, int] | None:
        pending = self._failures.get(method)
        return pending.pop(0) if pending else None

    # --- Bot API methods --------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Mijn Stem",
                "username": BOT_USERNAME, "can_join_groups": False,
                "can_read_all_group_messages": False, "supports_inline_queries": False}

    def _api_getMe(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return self._bot_user()

    def _api_getUpdates(self, params: dict[str, Any]) -> Any:  # noqa: N802
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(timeout, 5.0)
        with self._cond:
            self.polls += 1
            self._cond.notify_all()
            while not self._updates and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            served, self._updates = self._updates[:limit], self._updates[limit:]
            if served:
                self.calls.append(Call("getUpdates", {**params, "served": len(served)}))
            return served

    def _new_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private"}, "from": self._bot_user(),
                   **{k: v for k, v in content.items() if v is not None}}
        with self._cond:
            self._sent[message["message_id"]] = message
            self._sent_to.setdefault(chat_id, []).append(message)
            self._chat_cond(chat_id).notify_all()
        return message

    def _api_sendMessage(self, params: dict[str, Any]) -> Any:  # noqa: N802
        if not params.get("text"):
            raise _ApiError(400, "Bad Request: message text is empty")
        return self._new_message(int(params["chat_id"]), text=params["text"],
                                 reply_markup=params.get("reply_markup"))

    def _api_sendPhoto(self, params: dict[str, Any]) -> Any:  # noqa: N802
        photo = [{"file_id": "photo-1", "file_unique_id": "p1", "width": 320, "height": 240}]
        return self._new_message(int(params["chat_id"]), photo=photo,
                                 caption=params.get("caption"),
                                 reply_markup=params.get("reply_markup"),
                                 source=params.get("photo"))

    def _api_sendChatAction(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return True

    def _api_setMyCommands(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return True  # recorded in `calls` like every method

    def _edit(self, params: dict[str, Any], **changes: Any) -> Any:
        message = self._sent.get(int(params.get("message_id") or 0))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        with self._cond:
            message.update(changes)
            if params.get("reply_markup") is None:
                message.pop("reply_markup", None)
            self._chat_cond(message["chat"]["id"]).notify_all()
        return message

    def _api_editMessageText(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return self._edit(params, text=params["text"], edited=True)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return self._edit(params, edited=True)

    def _api_setWebhook(self, params: dict[str, Any]) -> Any:  # noqa: N802
        self.webhook = dict(params)
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:  # noqa: N802
        self.webhook = {}
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    def _api_setMyCommands(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return True

    def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    def _api_logOut(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return True

    # --- the users' side ----------------------------------------------------------------

    def fail_next(self, method: str, retry_after: int = 1, times: int = 1,
                  status: int = 429) -> None:
        """The next `times` calls of `method` get a 429 Too Many Requests (or, with
        another `status`, that server error: 500, 502, 503...)."""
        with self._cond:
            self._failures.setdefault(method, []).extend([(status, retry_after)] * times)

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates (an update_id is given unless it has one:
        pushing the same update_id twice is Telegram delivering an update again)."""
        with self._cond:
            update.setdefault("update_id", next(self._update_ids))
            self._pushed[int(update["update_id"])] = update
            self._updates.append(json.loads(json.dumps(update)))
            self._cond.notify_all()
        return int(update["update_id"])

    def redeliver(self, update_id: int) -> None:
        """Serve an update again, as Telegram does when it was not confirmed."""
        self.push(json.loads(json.dumps(self._pushed[update_id])))

    def user_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        user = {"id": chat_id, "is_bot": False, "first_name": "Kind", "language_code": "nl"}
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private", "first_name": "Kind"},
                   "from": user, **content}
        text = content.get("text") or ""
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(command)}]
        return message

    def send_text(self, chat_id: int, text: str) -> int:
        return self.push({"message": self.user_message(chat_id, text=text)})

    def send_sticker(self, chat_id: int) -> int:
        sticker = {"file_id": "sticker-1", "file_unique_id": "s1", "type": "regular",
                   "width": 512, "height": 512, "is_animated": False, "is_video": False,
                   "emoji": "👍"}
        return self.push({"message": self.user_message(chat_id, sticker=sticker)})

    def send_voice(self, chat_id: int) -> int:
        voice = {"file_id": "voice-1", "file_unique_id": "v1", "duration": 3}
        return self.push({"message": self.user_message(chat_id, voice=voice)})

    def send_location(self, chat_id: int) -> int:
        location = {"latitude": 52.09, "longitude": 5.12}
        return self.push({"message": self.user_message(chat_id, location=location)})

    def edit_text(self, chat_id: int, text: str) -> int:
        message = self.user_message(chat_id, text=text, edit_date=int(time.time()))
        return self.push({"edited_message": message})

    def press(self, chat_id: int, message: dict[str, Any], title: str) -> int:
        """Press the button with this title on a message the bot sent."""
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == title:
                    return self.push({"callback_query": {
                        "id": str(next(self._query_ids)),
                        "from": {"id": chat_id, "is_bot": False, "first_name": "Kind"},
                        "chat_instance": f"ci-{chat_id}",
                        "message": self._sent.get(message["message_id"], message),
                        "data": button["callback_data"],
                    }})
        raise KeyError(f"no button {title!r} on message {message.get('message_id')}")

    def post_to_webhook(
        self, url: str, update: dict[str, Any], secret: str | None
    ) -> int:
        """Deliver an update the way Telegram does in webhook mode; returns the status."""
        update.setdefault("update_id", next(self._update_ids))
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        request = urllib.request.Request(url, data=json.dumps(update).encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    # --- what the bot did ---------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def messages_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages (texts and photos) the bot sent to a chat, as they are now."""
        with self._cond:
            return list(self._sent_to.get(chat_id, ()))

    def texts_to(self, chat_id: int) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.messages_to(chat_id)]

    def wait_for(self, check: Callable[[], T], timeout: float = 60.0) -> T:
        """Wait until `check()` returns something truthy, and return it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = check()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out; the bot sent: {self._summary()}")
                self._cond.wait(min(remaining, 0.2))

    def wait_for_count(self, chat_id: int, count: int, timeout: float = 60.0) -> None:
        """Wait until the bot sent at least `count` messages to the chat. Woken only by
        messages to this chat (wait_for wakes on every call of every chat), so many
        chats can wait at once at little cost: the bench's driver threads."""
        deadline = time.monotonic() + timeout
        with self._cond:
            condition = self._chat_cond(chat_id)
            while len(self._sent_to.get(chat_id, ())) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out; the bot sent: {self._summary()}")
                condition.wait(remaining)

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 60.0,
                          settle: float = 0.3) -> list[dict[str, Any]]:
        """Wait until the bot sent at least `count` messages to the chat, and then a
        moment longer in case more follow; returns all messages to the chat."""
        self.wait_for(lambda: len(self.messages_to(chat_id)) >= count, timeout)
        last = -1
        while len(self.messages_to(chat_id)) != last:
            last = len(self.messages_to(chat_id))
            time.sleep(settle)
        return self.messages_to(chat_id)

    def _chat_cond(self, chat_id: int) -> threading.Condition:
        """The chat's condition (call with the lock held)."""
        condition = self._chat_conds.get(chat_id)
        if condition is None:
            condition = self._chat_conds[chat_id] = threading.Condition(self._lock)
        return condition

    def _summary(self) -> str:
        return "; ".join(f"{c.method}({c.status})" for c in self.calls[-20:])


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _read_params(request: BaseHTTPRequestHandler) -> dict[str, Any]:
    length = int(request.headers.get("Content-Length") or 0)
    raw = request.rfile.read(length) if length else b""
    content_type = request.headers.get("Content-Type") or ""
    params: dict[str, Any] = {}
    if content_type.startswith("application/json"):
        params = json.loads(raw or b"{}")
    elif content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                params[str(name)] = part.get_content()
    else:
        params = dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
    query = urllib.parse.urlparse(request.path).query
    params.update(dict(urllib.parse.parse_qsl(query)))
    for key in _JSON_FIELDS & params.keys():
        if isinstance(params[key], str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params
