from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length, Regexp

# A shape check only: staff addresses may use reserved domains (demo accounts
# are @switchboard.test), which strict validators reject.
EMAIL_SHAPE = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter an e-mail address.")


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), EMAIL_SHAPE, Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me signed in")
