from django.urls import path

from . import views

app_name = "pages"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("articles/", views.ArticleListView.as_view(), name="article_list"),
    path("articles/<slug:slug>/", views.ArticleDetailView.as_view(), name="article_detail"),
    path("offices/", views.OfficeListView.as_view(), name="office_list"),
    path("offices/<slug:slug>/", views.OfficeDetailView.as_view(), name="office_detail"),
    path("offers/<slug:slug>/", views.PromotionDetailView.as_view(), name="promotion_detail"),
    path("services/", views.ServiceListView.as_view(), name="service_list"),
    path("services/<slug:slug>/", views.ServiceDetailView.as_view(), name="service_detail"),
    path("team/", views.TeamView.as_view(), name="team"),
    path("team/<slug:slug>/", views.ClinicianDetailView.as_view(), name="clinician_detail"),
    path("search/", views.SearchView.as_view(), name="search"),
    # Last of all: a page's slug may not be a path above (pages.models.validate_page_slug).
    path("<slug:slug>/", views.PageDetailView.as_view(), name="page_detail"),
]
