# The lists themselves: a new, empty table (its rows and the todos' columns come in 0007).

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone


class Migration(migrations.Migration):

    dependencies = [
        ('todos', '0005_single_filter_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='TodoList',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100)),
                ('is_inbox', models.BooleanField(default=False)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('owner', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='todo_lists', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'db_table': 'todo_lists',
                'ordering': ['-is_inbox', 'name', 'id'],
                'constraints': [
                    models.UniqueConstraint(models.F('owner'), django.db.models.functions.text.Lower('name'), name='todo_lists_owner_name_ci'),
                    models.UniqueConstraint(condition=models.Q(('is_inbox', True)), fields=('owner',), name='todo_lists_one_inbox'),
                ],
            },
        ),
    ]
