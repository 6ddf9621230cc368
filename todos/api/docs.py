"""The OpenAPI description and its Swagger UI page (drf-spectacular's views), their errors in
JSON like every other answer under /api/ (they would be YAML, or Swagger's template)."""

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.renderers import JSONRenderer


class JSONErrors:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


class SchemaView(JSONErrors, SpectacularAPIView):
    pass


class DocsView(JSONErrors, SpectacularSwaggerSplitView):
    """Swagger UI, its start-up script served from ?script rather than inline (the CSP)."""
