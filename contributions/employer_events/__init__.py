"""用人单位变动 (issue #14 item 4): 合并、分立、转制、破产、关闭注销 — the event, its rules and its service."""
