"""Forms posted as a browser sends them, whatever the text in them."""

from urllib.parse import urlencode


def form_body(data):
    """A form's body as a browser could send it, whatever the text: a lone surrogate
    ("\\ud800", which no UTF-8 encoder takes) goes as the bytes a careless encoder makes."""
    return urlencode(data, encoding="utf-8", errors="surrogatepass")


def post_form(client, path, data, **extra):
    return client.post(
        path, form_body(data), content_type="application/x-www-form-urlencoded", **extra
    )
