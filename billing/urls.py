from django.urls import path

from billing import byok_views, views

urlpatterns = [
    path("credits", views.credits_page, name="credits"),
    path("credits/buy", views.buy, name="buy_credits"),
    path("credits/success", views.purchase_success, name="purchase_success"),
    path(
        "credits/purchases/<int:purchase_id>/status", views.purchase_status, name="purchase_status"
    ),
    path("credits/receipts/<int:purchase_id>", views.receipt, name="receipt"),
    path("credits/receipts/<int:purchase_id>.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("credits/auto-top-up", views.auto_topup, name="auto_topup"),
    path("credits/low-balance", views.low_balance, name="low_balance"),
    path("credits/card", views.save_card, name="save_card"),
    path("credits/card/saved", views.card_saved, name="card_saved"),
    # The local stand-ins for Stripe's hosted pages (used only without a Stripe key).
    path("credits/test-checkout/<str:session_id>", views.local_checkout, name="local_checkout"),
    path("credits/test-card", views.local_card, name="local_card"),
    path("stripe/webhook", views.stripe_webhook, name="stripe_webhook"),
    path("settings/provider-keys", byok_views.provider_keys, name="provider_keys"),
    path(
        "settings/provider-keys/<uuid:key_id>/toggle",
        byok_views.provider_key_toggle,
        name="provider_key_toggle",
    ),
    path(
        "settings/provider-keys/<uuid:key_id>/delete",
        byok_views.provider_key_delete,
        name="provider_key_delete",
    ),
]
