from __future__ import annotations

from bot.telegram.dedupe import RecentUpdates


def test_an_update_id_is_new_only_once():
    recent = RecentUpdates()
    assert recent.first_time(1001)
    assert not recent.first_time(1001)
    assert recent.first_time(1002)
    assert not recent.first_time(1002)


def test_the_window_is_bounded_and_forgets_the_oldest():
    recent = RecentUpdates(size=3)
    for update_id in (1, 2, 3, 4):
        assert recent.first_time(update_id)
    assert len(recent) == 3
    assert recent.first_time(1)  # forgotten: long gone from Telegram's redelivery window
    assert not recent.first_time(4)
