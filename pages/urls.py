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
]
