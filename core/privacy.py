"""The privacy notice shown at registration (个人信息处理告知, PIPL Art. 13–14, 17).

The notice itself is the page ``templates/auth/privacy.html``: what linli keeps about a resident,
why, for how long, who sees it, and how to download (Art. 45) or erase (Art. 47) it. Whoever
registers consents to the version in force, and the account records when and which version
(``User.privacy_consent_at``, ``User.privacy_notice_version``). Change ``NOTICE_VERSION`` whenever
the notice's content changes, so that each consent names the text that was actually shown."""

NOTICE_VERSION = "2026-12-07"
