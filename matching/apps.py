from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"

    def ready(self):
        from matching import check_ins, reminders, wellbeing
        from matching.replies import answer_check_in, answer_reminder
        from messaging import replies

        replies.register(reminders.REPLY_HANDLER, answer_reminder)
        replies.register(check_ins.REPLY_HANDLER, answer_check_in)
        replies.register(wellbeing.REPLY_HANDLER, wellbeing.answer_wellbeing_check_in)
