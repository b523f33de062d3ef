"""Different chats at the same time, one chat in order (PerChatUpdateProcessor)."""

from __future__ import annotations

import asyncio

from telegram import Chat, Message, Update

from bot.telegram.ordering import PerChatUpdateProcessor


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, None, chat, text="x"))  # type: ignore[arg-type]


async def test_one_chat_in_order_other_chats_meanwhile():
    processor = PerChatUpdateProcessor(max_concurrent_updates=4)
    events: list[str] = []
    release_slow = asyncio.Event()

    async def handle(name: str, slow: bool = False) -> None:
        events.append(f"start {name}")
        if slow:
            await release_slow.wait()
        await asyncio.sleep(0)
        events.append(f"end {name}")

    # As PTB does: one task per update, created in the order the updates came in.
    tasks = [
        asyncio.create_task(processor.process_update(_update(1, 10), handle("a1", slow=True))),
        asyncio.create_task(processor.process_update(_update(2, 10), handle("a2"))),
        asyncio.create_task(processor.process_update(_update(3, 20), handle("b1"))),
        asyncio.create_task(processor.process_update(_update(4, 10), handle("a3"))),
    ]
    for _ in range(20):
        await asyncio.sleep(0)
    # Chat 20 was answered while chat 10 waits for its slow first message.
    assert events == ["start a1", "start b1", "end b1"]
    release_slow.set()
    await asyncio.gather(*tasks)
    chat_10 = [e for e in events if e.endswith(("a1", "a2", "a3"))]
    assert chat_10 == ["start a1", "end a1", "start a2", "end a2", "start a3", "end a3"]
