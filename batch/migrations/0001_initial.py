"""BatchRun and BatchChunk move from the policy app to batch: the tables stay (policy_batchrun,
policy_batchchunk); only Django's model state and the content types change."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def relabel_content_types(apps, schema_editor, old="policy", new="batch"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("batchrun", "batchchunk"):
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def relabel_back(apps, schema_editor):
    relabel_content_types(apps, schema_editor, old="batch", new="policy")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("policy", "0003_langfang_average_pension_statistics"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='BatchRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('job', models.CharField(db_index=True, max_length=64, verbose_name='作业')),
                        ('as_of', models.DateField(verbose_name='业务日期')),
                        ('params', models.JSONField(blank=True, default=dict, verbose_name='参数')),
                        ('preview', models.BooleanField(default=False, verbose_name='预览（不提交）')),
                        ('status', models.CharField(choices=[('pending', '待执行'), ('running', '执行中'), ('done', '已完成'), ('failed', '失败')], default='pending', max_length=8, verbose_name='状态')),
                        ('chunk_count', models.PositiveIntegerField(default=0, verbose_name='分块数')),
                        ('chunks_done', models.PositiveIntegerField(default=0, verbose_name='已完成分块')),
                        ('counts', models.JSONField(blank=True, default=dict, verbose_name='统计')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='创建时间')),
                        ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='开始时间')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='结束时间')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL, verbose_name='发起人')),
                        ('jurisdiction', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, to='policy.jurisdiction', verbose_name='统筹区')),
                    ],
                    options={
                        'db_table': 'policy_batchrun',
                        'verbose_name': '批处理运行',
                        'verbose_name_plural': '批处理运行',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='BatchChunk',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveIntegerField(verbose_name='序号')),
                        ('lo', models.BigIntegerField(verbose_name='起始人员ID')),
                        ('hi', models.BigIntegerField(verbose_name='截止人员ID（不含）')),
                        ('status', models.CharField(choices=[('pending', '待执行'), ('running', '执行中'), ('done', '已完成'), ('failed', '失败')], default='pending', max_length=8, verbose_name='状态')),
                        ('counts', models.JSONField(blank=True, default=dict, verbose_name='统计')),
                        ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='尝试次数')),
                        ('error', models.TextField(blank=True, verbose_name='错误')),
                        ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='开始时间')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='结束时间')),
                        ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='chunks', to='batch.batchrun', verbose_name='运行')),
                    ],
                    options={
                        'db_table': 'policy_batchchunk',
                        'verbose_name': '批处理分块',
                        'verbose_name_plural': '批处理分块',
                        'ordering': ['run_id', 'number'],
                        'constraints': [models.UniqueConstraint(fields=('run', 'number'), name='batch_chunk_unique_number')],
                    },
                ),
            ],
        ),
        migrations.RunPython(relabel_content_types, relabel_back),
    ]
