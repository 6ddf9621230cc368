from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import services


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def give_a_new_user_an_inbox(sender, instance, created, raw=False, **kwargs):
    """Signup, createsuperuser, the admin and create_user all save a new user: each gets its
    Inbox here, through the one function that makes it."""
    if created and not raw:
        services.create_inbox(owner=instance)
