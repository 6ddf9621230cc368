# The locale quick add reads dates in (todos.locales), and the settings row goes with its user in
# the database too, as the user's other rows do since 0008.

from django.db import migrations, models

from todos.migrations._user_keys import cascade_with_the_user


class Migration(migrations.Migration):

    dependencies = [
        ('todos', '0010_user_settings'),
    ]

    operations = [
        migrations.AddField(
            model_name='usersettings',
            name='locale',
            field=models.CharField(default='en', max_length=35),
        ),
        *cascade_with_the_user("user_settings", "user_id", "DEFERRABLE INITIALLY DEFERRED"),
    ]
