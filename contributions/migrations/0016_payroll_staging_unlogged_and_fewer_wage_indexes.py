# Payroll import at 100 000 rows (issue #13 item 4): the staged rows keyed by (job, row) in an UNLOGGED table
# on PostgreSQL, and the wage declarations without indexes on their import job and declarant.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

STAGED = "contributions_payrollstagedrow"


def unlogged(apps, schema_editor):
    """No WAL for the staged rows (a cache of the dry run: a crash empties it, the confirm validates again)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {STAGED} SET UNLOGGED")


def logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {STAGED} SET LOGGED")


class Migration(migrations.Migration):

    dependencies = [
        ('contributions', '0015_wage_declaration_fewer_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The staged rows are transient: the table is made again with its new key (a job staged before this
        # migration is validated again at its confirm, as the confirm does for any job missing staged rows).
        migrations.DeleteModel(name='PayrollStagedRow'),
        migrations.CreateModel(
            name='PayrollStagedRow',
            fields=[
                ('pk', models.CompositePrimaryKey('job', 'row', blank=True, editable=False, primary_key=True, serialize=False)),
                ('row', models.PositiveIntegerField(verbose_name='行号')),
                ('person_id', models.BigIntegerField(verbose_name='人员ID')),
                ('year', models.PositiveSmallIntegerField(verbose_name='缴费年度')),
                ('monthly_wage', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='月平均工资')),
                ('annual_wage_total', models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, verbose_name='上年度工资总额')),
                ('first_pay_month', models.DateField(blank=True, null=True, verbose_name='起薪当月')),
                ('job', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contributions.importjob', verbose_name='导入批次')),
            ],
            options={
                'verbose_name': '试导入暂存行',
                'verbose_name_plural': '试导入暂存行',
            },
        ),
        migrations.RunPython(unlogged, logged),
        migrations.AlterField(
            model_name='wagedeclaration',
            name='declared_by',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='申报人'),
        ),
        migrations.AlterField(
            model_name='wagedeclaration',
            name='import_job',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='wage_declarations', to='contributions.importjob', verbose_name='导入批次'),
        ),
    ]
