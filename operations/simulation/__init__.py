"""基金测算 (issue #18 item 5): a policy draft run against the real data of a past period."""
