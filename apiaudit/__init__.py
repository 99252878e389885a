"""接口访问 (issue #16 item 5): machine tokens, throttling per client and the audit of every API write.

Ground layer: it imports no domain app, so every app's API can use its mixin and throttle.
"""
