"""`cslog notify` (design 9.6): what `overdue` lists, sent where the team already is — WeCom (企业微信), DingTalk (钉钉)
and Feishu (飞书) group robots, and e-mail. `messages` builds each platform's payloads (its own JSON format, split
to its size limit, owners @-mentioned by the mobile or user id cslog.yaml's agents give); `send` posts them
(urllib) or mails them (smtplib), with a timeout and a few retries. The use-case is ops/notify.py."""
