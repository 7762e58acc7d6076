from django.urls import path

from dashboard import inbox, report_pages, views, volunteer_page, waiting_list

app_name = "dashboard"

urlpatterns = [
    path("", views.Today.as_view(), name="today"),
    path("sessions/<int:pk>/cancel/", views.CancelSession.as_view(), name="cancel-session"),
    path(
        "sessions/<int:pk>/reschedule/",
        views.RescheduleSession.as_view(),
        name="reschedule-session",
    ),
    path("sessions/<int:pk>/text/", views.TextVolunteer.as_view(), name="text-volunteer"),
    path("follow-ups/<int:pk>/handle/", views.HandleFollowUp.as_view(), name="handle-follow-up"),
    path("search/", views.Search.as_view(), name="search"),
    path("volunteers/<int:pk>/", volunteer_page.VolunteerPage.as_view(), name="volunteer"),
    path("inbox/", inbox.Inbox.as_view(), name="inbox"),
    path("inbox/<int:pk>/answer/", inbox.AnswerReply.as_view(), name="answer-reply"),
    path("inbox/<int:pk>/handle/", inbox.HandleReply.as_view(), name="handle-reply"),
    path("reports/", report_pages.Reports.as_view(), name="reports"),
    path("reports/<slug:slug>.csv", report_pages.ReportCsv.as_view(), name="report-csv"),
    path("waiting/", waiting_list.WaitingList.as_view(), name="waiting-list"),
    path(
        "waiting/peers/<int:pk>/propose/",
        waiting_list.ProposeMatch.as_view(),
        name="propose-match",
    ),
    path(
        "waiting/proposals/<int:pk>/approve/",
        waiting_list.ApproveMatch.as_view(),
        name="approve-match",
    ),
    path(
        "waiting/proposals/<int:pk>/decline/",
        waiting_list.DeclineMatch.as_view(),
        name="decline-match",
    ),
    path(
        "waiting/propose-for-everyone/",
        waiting_list.ProposeForEveryone.as_view(),
        name="propose-for-everyone",
    ),
]
