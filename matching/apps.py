from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self):
        from matching import reminders
        from matching.replies import answer_reminder
        from messaging import replies

        replies.register(reminders.REPLY_HANDLER, answer_reminder)
