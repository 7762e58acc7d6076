from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import headless
from api import calendar
from config.health import health

admin.site.site_header = "PeerPath"
admin.site.site_title = "PeerPath"
admin.site.index_title = "Coordinator's desk"
# The admin signs in through allauth, so rate limits and MFA hold there too.
admin.site.login = secure_admin_login(admin.site.login)


class Favicon(RedirectView):
    """Browsers ask every site for /favicon.ico; PeerPath's icon is a static file."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("peerpath/favicon.svg")


urlpatterns = [
    path("favicon.ico", Favicon.as_view()),
    path("health/", health, name="health"),
    path("accounts/", include("allauth.urls")),
    *headless.urlpatterns,
    path("_allauth/", include("allauth.headless.urls")),
    path("api/v1/", include("api.urls")),
    path("calendar/<str:token>.ics", calendar.feed, name="calendar-feed"),
    path("messaging/", include("messaging.urls")),
    path("admin/", admin.site.urls),
    # The coordinator's dashboard, at the site's root.
    path("", include("dashboard.urls")),
]

handler404 = "api.problems.page_not_found"
handler500 = "api.problems.server_error"
