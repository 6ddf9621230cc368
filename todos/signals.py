from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import selectors, services


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def give_a_new_user_an_inbox(sender, instance, created, raw=False, **kwargs):
    """Signup, createsuperuser, the admin and create_user all save a new user: each gets its
    Inbox here, through the one function that makes it."""
    if created and not raw:
        services.create_inbox(owner=instance)


@receiver(post_delete, sender=settings.AUTH_USER_MODEL)
def forget_a_deleted_users_inbox(sender, instance, **kwargs):
    """This worker remembers Inbox ids; a deleted user's goes at once (other workers look it up
    again only for a user they still know, and such a late write fails on the user's foreign
    key: 401)."""
    selectors.forget_inbox(instance.pk)
